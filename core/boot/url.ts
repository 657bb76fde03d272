import type { PxeConfig } from '../config/types.js';
import type { BootSession } from '../session/types.js';
import { macDashes, macHex } from './mac.js';

/** True for `http://…`, `https://…`, `tftp://…` and other scheme-qualified URLs. */
export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

/**
 * How clients reach this server over HTTP. A client that came over IPv6 (a DHCPv6 answer, an HTTP request to an
 * IPv6 address): `http.baseUrl6`, else `http.baseUrl` unless its host is an IPv4 literal (useless over IPv6),
 * else `http://[<address the request arrived on>][:port]`. Over IPv4: `http.baseUrl`, else
 * `http://<address the request arrived on>[:port]`. Undefined when none is known (then no URL can be handed out).
 */
export function serverBaseUrl(config: PxeConfig, localAddress?: string, boundPort?: number): string | undefined {
  const { baseUrl, baseUrl6 } = config.http;
  const overIpv6 = localAddress !== undefined && isIpv6Only(localAddress);
  if (overIpv6 && baseUrl6) return baseUrl6.replace(/\/+$/, '');
  if (baseUrl && !(overIpv6 && hasIpv4Host(baseUrl))) return baseUrl.replace(/\/+$/, '');
  const host = (localAddress ?? config.http.address ?? config.dhcp.serverAddress)?.replace(/^::ffff:(?=[\d.]+$)/i, '');
  if (!host || host === '0.0.0.0') return undefined;
  // The port actually bound (config port 0 = ephemeral), else the configured one.
  const port = boundPort ?? config.http.port;
  // An IPv6 literal goes in brackets (RFC 3986 §3.2.2); a link-local zone cannot be in a URL a client can use.
  const hostPart = host.includes(':') ? `[${host.split('%', 1)[0]}]` : host;
  return `http://${hostPart}${port === 80 ? '' : `:${port}`}`;
}

/** An IPv6 address that is not an IPv4-mapped one (`::ffff:10.0.0.1` is an IPv4 client on a dual-stack socket). */
function isIpv6Only(address: string): boolean {
  return address.includes(':') && !/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address);
}

function hasIpv4Host(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?\d+\.\d+\.\d+\.\d+(?::\d+)?(?:\/|$)/i.test(url);
}

/** The HTTP port the server really listens on, once started (undefined before). */
export function boundHttpPort(server: {
  listening: ReadonlyArray<{ protocol: string; port: number }>;
}): number | undefined {
  return server.listening.find((l) => l.protocol === 'http')?.port;
}

/**
 * Joins a path to a base URL with exactly one `/` between them: UEFI HTTP boot must never see `//`
 * (a server redirect for it kills the boot: firmware-quirks.md, smee PR #229). A full URL is kept.
 */
export function joinUrl(base: string, path: string): string {
  if (isUrl(path)) return path;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Per-host variables `${name}` in URLs and paths can use. */
export function sessionUrlVars(s: Pick<BootSession, 'mac' | 'ip' | 'arch' | 'archName'>): Record<string, string> {
  return {
    mac: s.mac,
    mac_dashes: macDashes(s.mac),
    mac_hex: macHex(s.mac),
    ...(s.ip ? { ip: s.ip } : {}),
    ...(s.arch !== undefined ? { arch: String(s.arch) } : {}),
    ...(s.archName ? { archName: s.archName } : {}),
  };
}

/**
 * Replaces `${name}` with `vars[name]`, URI-encoded when `encode`. Unknown names are left as they are,
 * so iPXE can still expand its own settings (`${buildarch}`, `${serial}`) when it fetches the URL.
 */
export function expandVars(template: string, vars: Record<string, string>, encode = true): string {
  return template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    const v = vars[name];
    return v === undefined ? whole : encode ? encodeURIComponent(v).replace(/%3A/gi, ':') : v;
  });
}
