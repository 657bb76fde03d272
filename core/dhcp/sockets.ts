/**
 * The DHCP listener's sockets, of one kind chosen once: the native addon's (core/native/dhcp-socket.ts:
 * batched receives with recvmmsg, one sendto per reply, less CPU per exchange) when it loaded, else
 * node:dgram (`PXEKIT_NATIVE_DHCP=0` forces it). Both bind UDP/IPv4 with SO_BROADCAST, and SO_REUSEADDR
 * when asked; the listener sees only `DhcpSocket`.
 */
import { createSocket } from 'node:dgram';
import {
  DHCP_MAX_QUEUE_AGE_MS,
  NativeDhcpSocket,
  nativeDhcpAvailable,
  type DhcpSocketEvents,
} from '../native/dhcp-socket.js';
import type { ReplySocket } from './reply-queue.js';

/** What a socket reports (one definition for both kinds; node:dgram never calls `onStale`). */
export type { DhcpSocketEvents };
export { DHCP_MAX_QUEUE_AGE_MS };

export interface DhcpSocket extends ReplySocket {
  readonly port: number;
  close(): void;
}

export type DhcpTransport = 'native' | 'dgram';

/** Which sockets the DHCP listener uses in this process. */
export function dhcpTransport(): DhcpTransport {
  return nativeDhcpAvailable() ? 'native' : 'dgram';
}

/**
 * Binds `address`:`port`; rejects with the bind's errno error (EADDRINUSE, EACCES, …). `maxQueueAgeMs`
 * (native only; node:dgram gives no receive times): requests older than that in the kernel's queue are
 * dropped unread (default DHCP_MAX_QUEUE_AGE_MS).
 */
export function bindDhcpSocket(
  transport: DhcpTransport,
  address: string,
  port: number,
  reuseAddr: boolean,
  events: DhcpSocketEvents,
  maxQueueAgeMs?: number,
): Promise<DhcpSocket> {
  if (transport === 'native') {
    try {
      return Promise.resolve(new NativeDhcpSocket(address, port, reuseAddr, events, maxQueueAgeMs));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  const socket = createSocket({ type: 'udp4', reuseAddr });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind({ port, address, exclusive: false }, () => {
      socket.removeAllListeners('error');
      socket.setBroadcast(true);
      socket.on('error', (err: NodeJS.ErrnoException) => events.onError(err));
      socket.on('message', (buf, rinfo) => events.onMessage(buf, rinfo.address, rinfo.port));
      resolve({
        get port() {
          return socket.address().port;
        },
        send: (msg, p, a, cb) => socket.send(msg, p, a, cb),
        close: () => {
          try {
            socket.close();
          } catch {
            /* already closed */
          }
        },
      });
    });
  });
}
