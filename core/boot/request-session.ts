import type { IncomingMessage } from 'node:http';
import type { PxeServer } from '../server.js';
import type { BootSession } from '../session/types.js';
import { unmapIpv4 } from '../util/ipv4-mapped.js';
import { ipHexNames, type PathPattern } from './path-pattern.js';

/** What a path pattern captured from a request path (`PathPattern.match`). */
export type PathHit = NonNullable<ReturnType<PathPattern['match']>>;

/**
 * The session a TFTP/HTTP request is about: a MAC named in the path (pxelinux `01-<mac>`, GRUB
 * `grub.cfg-01-<mac>`) wins, then the session the protocol attached, then the one for the source IP.
 * A MAC with no session yet gets a blank, unstored session so per-MAC files still render.
 */
export function sessionForRequest(
  server: Pick<PxeServer, 'sessions'>,
  req: { mac?: string; session?: BootSession; clientAddress?: string },
): BootSession | undefined {
  if (req.mac) {
    if (req.session?.mac === req.mac) return req.session;
    return server.sessions.get(req.mac) ?? blankSession(req.mac);
  }
  if (req.session) return req.session;
  return req.clientAddress ? server.sessions.byIp(req.clientAddress) : undefined;
}

/**
 * The session a request for a per-host path is about (as `sessionForRequest`, with the MAC the path named),
 * when it agrees with everything else the path named: the IP (`{{ip}}`), the IP in hex (`{{ip_hex}}`, also
 * shortened as GRUB asks) and the GUID (`{{uuid}}`). Undefined: the path is not this client's.
 */
export function sessionForPath(
  server: Pick<PxeServer, 'sessions'>,
  hit: PathHit,
  req: { session?: BootSession | undefined; clientAddress?: string | undefined },
): BootSession | undefined {
  const s = sessionForRequest(server, {
    ...(hit.mac ? { mac: hit.mac } : {}),
    ...(req.session ? { session: req.session } : {}),
    ...(req.clientAddress ? { clientAddress: req.clientAddress } : {}),
  });
  if (!s) return undefined;
  if (hit.ip && s.ip !== hit.ip) return undefined;
  if (hit.ipHex && !ipHexNames(hit.ipHex, s.ip ?? req.clientAddress)) return undefined;
  if (hit.uuid && s.guid?.toLowerCase() !== hit.uuid) return undefined;
  return s;
}

/** The local address an HTTP request arrived on (`::ffff:` unwrapped), for `templateVars`' server URL. */
export function requestLocal(req: IncomingMessage): { address: string } | undefined {
  const local = req.socket?.localAddress;
  return local ? { address: unmapIpv4(local) } : undefined;
}

export function blankSession(mac: string): BootSession {
  const now = Date.now();
  return { mac, labels: {}, stage: 'dhcp', firstSeen: now, lastSeen: now, bytes: 0, files: [] };
}
