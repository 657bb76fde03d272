/**
 * Builds DHCP contexts from the real captures (fixtures/dhcp) and runs the boot decision the way the
 * DHCP service does (admit, then selectBoot, recording the spec on the session), without sockets.
 */
import { decode } from '../../../core/dhcp/codec.js';
import { classify } from '../../../core/dhcp/pxe.js';
import type { DhcpPacket } from '../../../core/dhcp/packet.js';
import type { DhcpContext } from '../../../core/hooks/dhcp.js';
import type { PxeServer } from '../../../core/server.js';
import type { BootSpec } from '../../../core/session/types.js';
import { loadFixture } from '../../helpers/fixtures.js';

export interface ContextOptions {
  /** Edit the decoded packet before classification (drop 77/175 to make a raw PXE ROM, change the MAC). */
  edit?: (p: DhcpPacket) => void;
  local?: { address?: string; interface?: string };
  /** Client IP recorded on the session (as a lease would). */
  ip?: string;
}

/** A `DhcpContext` for a fixture (`uefi-edk2-discover`), its session created in the server's store. */
export function fixtureContext(server: PxeServer, fixture: string, opts: ContextOptions = {}): DhcpContext {
  const packet = decode(loadFixture(fixture));
  opts.edit?.(packet);
  const client = classify(packet);
  const session = server.sessions.upsert(client.mac, {
    ...(opts.ip ? { ip: opts.ip } : {}),
    ...(client.arch !== undefined ? { arch: client.arch } : {}),
    archName: client.archName,
    firmware:
      client.firmware === 'bios' || client.firmware === 'uefi' || client.firmware === 'uefi-http'
        ? client.firmware
        : 'unknown',
    ...(client.vendorClass ? { vendorClass: client.vendorClass } : {}),
    userClass: client.userClass,
    isIpxe: client.isIpxe,
    ...(client.guid ? { guid: client.guid } : {}),
  });
  return {
    packet,
    messageType: packet.options.get(53)?.[0] ?? 0,
    kind: 'dhcp',
    mode: 'proxy',
    source: { address: '0.0.0.0', port: 68 },
    local: opts.local ?? { address: '10.99.0.1' },
    client,
    session,
    log: server.log,
  };
}

/** Sets a MAC on a decoded packet (chaddr and the derived `mac`). */
export function setMac(p: DhcpPacket, mac: string): void {
  const bytes = Buffer.from(mac.replace(/:/g, ''), 'hex');
  bytes.copy(p.chaddr, 0);
  p.mac = mac;
}

/** Makes a raw (non-iPXE) PXE ROM out of an iPXE capture: no user class 77, no option 175. */
export function stripIpxe(p: DhcpPacket): void {
  p.options.delete(77);
  p.options.delete(175);
}

/** What the DHCP service does per request: admit, then selectBoot; the spec is stored on the session. */
export async function decide(
  server: PxeServer,
  ctx: DhcpContext,
): Promise<{ allowed: boolean; reason?: string; boot?: BootSpec }> {
  const admitted = await server.admit({
    protocol: 'dhcp',
    mac: ctx.client.mac,
    session: ctx.session,
    ...(ctx.session.ip ? { ip: ctx.session.ip } : {}),
  });
  if (!admitted.allowed) return { allowed: false, ...(admitted.reason ? { reason: admitted.reason } : {}) };
  const spec = await server.dhcp.hooks.selectBoot.promise(ctx);
  if (!spec) return { allowed: true };
  const decidedBy = server.runner.decidedBy(spec);
  ctx.session.boot = { ...spec, ...(decidedBy ? { decidedBy } : {}) };
  return { allowed: true, boot: ctx.session.boot };
}
