import type { BootSession } from '../session/types.js';
import type { SessionStore } from '../session/store.js';
import { unmapIpv4 } from '../util/ipv4-mapped.js';

/** How an HTTP request was tied to a client. */
export interface ClientIdentity {
  /** Lowercase colon MAC, from the URL or the session found by IP. */
  mac?: string;
  ip: string;
  session?: BootSession;
  via: 'query' | 'path' | 'ip' | 'none';
}

const SEPARATED_MAC =
  /^(?:01-)?([0-9a-f]{2})[-:]([0-9a-f]{2})[-:]([0-9a-f]{2})[-:]([0-9a-f]{2})[-:]([0-9a-f]{2})[-:]([0-9a-f]{2})$/i;
const BARE_MAC = /^([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i;

/**
 * A MAC written as iPXE (`${mac}` 52:54:00:12:34:56, `${mac:hexhyp}` 52-54-00-12-34-56) or pxelinux
 * (`01-52-54-00-12-34-56`, the ARP type 1 prefix) writes it. Bare 12-hex only where `bare` is allowed
 * (a query value), since a path segment of 12 hex digits is as likely a file name.
 */
export function parseMac(text: string, bare = false): string | undefined {
  const m = SEPARATED_MAC.exec(text) ?? (bare ? BARE_MAC.exec(text) : null);
  return m ? m.slice(1, 7).join(':').toLowerCase() : undefined;
}

/** The client's address as sessions key it (IPv4-mapped addresses unwrapped); '' when unknown. */
export function clientIp(remoteAddress: string | undefined): string {
  return unmapIpv4(remoteAddress ?? '');
}

/** The MAC a URL names: `?mac=`, else the first MAC-looking path segment. */
export function macFromUrl(path: string, query: URLSearchParams): { mac: string; via: 'query' | 'path' } | undefined {
  const q = query.get('mac');
  if (q) {
    const mac = parseMac(q.trim(), true);
    if (mac) return { mac, via: 'query' };
  }
  for (const seg of path.split('/')) {
    const mac = seg ? parseMac(seg) : undefined;
    if (mac) return { mac, via: 'path' };
  }
  return undefined;
}

/**
 * Finds the boot session of an HTTP client: by a MAC in the URL (iPXE scripts put it there, and it
 * survives NAT), else by the source IP that DHCP recorded. A MAC in the URL without a session still
 * names the client, so `admit` can judge it.
 */
export function lookupClient(
  sessions: SessionStore,
  path: string,
  query: URLSearchParams,
  remoteAddress: string | undefined,
): ClientIdentity {
  const ip = clientIp(remoteAddress);
  const fromUrl = macFromUrl(path, query);
  if (fromUrl) {
    const session = sessions.get(fromUrl.mac);
    return { mac: fromUrl.mac, ip, via: fromUrl.via, ...(session ? { session } : {}) };
  }
  const session = ip ? sessions.byIp(ip) : undefined;
  return session ? { mac: session.mac, ip, session, via: 'ip' } : { ip, via: 'none' };
}
