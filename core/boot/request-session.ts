import type { PxeServer } from '../server.js';
import type { BootSession } from '../session/types.js';

/**
 * The session a TFTP/HTTP request is about: a MAC named in the path (pxelinux `01-<mac>`, GRUB
 * `grub.cfg-01-<mac>`) wins, then the session the protocol attached, then the one for the source IP.
 * A MAC with no session yet gets a blank, unstored session so per-MAC files still render.
 */
export function sessionForRequest(
  server: PxeServer,
  req: { mac?: string; session?: BootSession; clientAddress?: string },
): BootSession | undefined {
  if (req.mac) {
    if (req.session?.mac === req.mac) return req.session;
    return server.sessions.get(req.mac) ?? blankSession(req.mac);
  }
  if (req.session) return req.session;
  return req.clientAddress ? server.sessions.byIp(req.clientAddress) : undefined;
}

export function blankSession(mac: string): BootSession {
  const now = Date.now();
  return { mac, labels: {}, stage: 'dhcp', firstSeen: now, lastSeen: now, bytes: 0, files: [] };
}
