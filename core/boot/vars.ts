import type { PxeServer } from '../server.js';
import type { BootSession } from '../session/types.js';
import { macDashes, macHex } from './mac.js';
import { serverBaseUrl, boundHttpPort } from './url.js';

/**
 * The variables a per-host template sees. Every key is always present (null when unknown) because
 * templates compile in handlebars strict mode, where a missing key is an error, so `{{#if hostname}}`
 * must find the key. Plugins add variables through `server.hooks.templateVars`; `extra` comes last.
 */
export function templateVars(
  server: PxeServer,
  session: BootSession,
  local?: { address?: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const boot = session.boot ?? null;
  const vars: Record<string, unknown> = {
    mac: session.mac,
    mac_dashes: macDashes(session.mac),
    mac_hex: macHex(session.mac),
    ip: session.ip ?? null,
    arch: session.arch ?? null,
    archName: session.archName ?? null,
    firmware: session.firmware ?? null,
    hostname: session.labels['hostname'] ?? null,
    vendorClass: session.vendorClass ?? null,
    userClass: session.userClass ?? [],
    isIpxe: session.isIpxe ?? false,
    guid: session.guid ?? null,
    labels: { ...session.labels },
    boot,
    vars: boot?.vars ?? {},
    profile: null,
    server: {
      baseUrl: serverBaseUrl(server.config, local?.address, boundHttpPort(server)) ?? null,
      address: local?.address ?? server.config.dhcp.serverAddress ?? null,
      tftpAddress:
        boot?.nextServer ?? server.config.tftp.address ?? server.config.dhcp.serverAddress ?? local?.address ?? null,
      httpPort: server.config.http.port,
    },
  };
  // Plugins add theirs (host-profiles: `profile`); then the caller's own (`request`, a rendered profile).
  return Object.assign(server.hooks.templateVars.call(vars, session), extra);
}
