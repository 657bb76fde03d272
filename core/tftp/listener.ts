/**
 * The TFTP listening socket: where requests arrive and the errors sent before a transfer exists leave.
 *
 * A client (UEFI firmware above all) expects every answer from the address it sent its request to. With the
 * native addon (core/native/listen-socket.ts) each request comes with that address (IP_PKTINFO /
 * IPV6_RECVPKTINFO), so a listener on 0.0.0.0 or :: binds each transfer's socket to it and sends its own
 * errors from it. node:dgram cannot tell: on a wildcard the kernel picks the source, which on a host with
 * several addresses of the family need not be the one asked (`sourceAmbiguity` says when, for a warning).
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { NativeListenSocket, nativeListen } from '../native/listen-socket.js';
import { nativeUdp } from '../native/udp-socket.js';
import type { TransportOption } from './transfer-socket.js';
import type { TftpClient } from './types.js';

export interface TftpListener {
  /** The address it is bound to, as configured. */
  readonly address: string;
  readonly type: 'udp4' | 'udp6';
  /** True when each request comes with the local address it was sent to (the native socket). */
  readonly knowsDestination: boolean;
  readonly port: number;
  /** Sends `buf` to `client` from `local` (when known), best effort: a failure is logged at debug. */
  send(buf: Buffer, client: TftpClient, local: string | undefined): void;
  close(): void;
}

/** A datagram for the server: `local` is the address it was sent to (undefined on node:dgram). */
export type OnListenerMessage = (msg: Buffer, client: TftpClient, local: string | undefined) => void;

export interface ListenerOptions {
  address: string;
  port: number;
  /** For an IPv6 socket beside an IPv4 one, so `::` there does not take IPv4 clients too. */
  ipv6Only: boolean;
  /** The addon's socket (knows each request's destination) instead of node:dgram's. */
  native: boolean;
  log: Logger;
  onMessage: OnListenerMessage;
}

/**
 * Whether a server with these options answers from the address each request was sent to: the addon's
 * listening socket and transfer sockets (not `tftp.transport: dgram`, not single-port mode, addon built).
 */
export function repliesFromRequestAddress(transport: TransportOption, singlePort: boolean): boolean {
  return !singlePort && transport !== 'dgram' && nativeUdp().available && nativeListen().available;
}

/**
 * Binds the listening socket. Rejects with a message naming the address, the port and the likely cause
 * (its `cause` is the errno error).
 */
export function bindListener(o: ListenerOptions): Promise<TftpListener> {
  const type = o.address.includes(':') ? 'udp6' : 'udp4';
  if (!o.native) return bindDgram(o, type);
  try {
    return Promise.resolve(bindNative(o, type));
  } catch (err) {
    return Promise.reject(bindError(err as NodeJS.ErrnoException, o.address, o.port, type));
  }
}

function bindError(err: NodeJS.ErrnoException, address: string, port: number, type: 'udp4' | 'udp6'): Error {
  const hint =
    err.code === 'EACCES'
      ? 'binding a port below 1024 needs root or CAP_NET_BIND_SERVICE'
      : err.code === 'EADDRINUSE'
        ? 'another TFTP server (dnsmasq, in.tftpd, atftpd) may hold it'
        : err.code === 'EADDRNOTAVAIL' || err.code === 'EINVAL'
          ? 'no interface has this address (a link-local one needs its zone: fe80::1%eth0)'
          : err.message;
  const where = type === 'udp6' ? `[${address}]:${port}` : `${address}:${port}`;
  return new Error(`cannot bind TFTP UDP ${where}: ${err.code ?? ''} ${hint}`.trim(), { cause: err });
}

function bindNative(o: ListenerOptions, type: 'udp4' | 'udp6'): TftpListener {
  const sock = new NativeListenSocket(o.address, o.port, o.ipv6Only, {
    onMessage: (buf, len, from, fromPort, to) => {
      if (len > buf.length) {
        o.log.debug({ client: { address: from, port: fromPort }, len }, 'tftp: oversized datagram dropped');
        return;
      }
      // Copied: the receive buffer is reused, and a request's packet may outlive this call.
      o.onMessage(Buffer.from(buf.subarray(0, len)), { address: from, port: fromPort }, to);
    },
    onError: (err) => o.log.warn({ err, address: o.address }, 'tftp: listening socket error'),
  });
  const port = sock.port;
  return {
    address: o.address,
    type,
    knowsDestination: true,
    port,
    send(buf, client, local) {
      const err = sock.send(buf, client.address, client.port, local);
      if (err) o.log.debug({ err, client, local }, 'tftp: send failed');
    },
    close: () => sock.close(),
  };
}

function bindDgram(o: ListenerOptions, type: 'udp4' | 'udp6'): Promise<TftpListener> {
  const sock: Socket = createSocket({ type, reuseAddr: false, ...(o.ipv6Only ? { ipv6Only: true } : {}) });
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      sock.close();
      reject(bindError(err, o.address, o.port, type));
    };
    sock.once('error', onError);
    sock.bind(o.port, o.address, () => {
      sock.off('error', onError);
      sock.on('error', (err) => o.log.warn({ err, address: o.address }, 'tftp: listening socket error'));
      sock.on('message', (msg, rinfo) => o.onMessage(msg, { address: rinfo.address, port: rinfo.port }, undefined));
      try {
        sock.setRecvBufferSize(4 * 1024 * 1024); // many single-port clients ACK at once; kernel caps it
      } catch {
        /* rmem_max is lower: keep the default */
      }
      resolve({
        address: o.address,
        type,
        knowsDestination: false,
        port: sock.address().port,
        send(buf, client) {
          try {
            sock.send(buf, client.port, client.address);
          } catch (err) {
            o.log.debug({ err, client }, 'tftp: send failed');
          }
        },
        close() {
          sock.removeAllListeners('message');
          sock.close();
        },
      });
    });
  });
}

type Interfaces = ReturnType<typeof networkInterfaces>;

/**
 * When a listener on a wildcard cannot control its source address (node:dgram), the host's addresses a
 * reply might leave from instead of the one asked: more than one IPv4 address (0.0.0.0), or more than one
 * global IPv6 address, or two link-local ones on one interface (::). Undefined when there is no ambiguity.
 */
export function sourceAmbiguity(address: string, interfaces: Interfaces = networkInterfaces()): string[] | undefined {
  const v6 = address === '::';
  if (address !== '0.0.0.0' && !v6) return undefined;
  const found: string[] = [];
  let twoLinkLocal = false;
  for (const [name, addrs] of Object.entries(interfaces)) {
    const mine = (addrs ?? []).filter((a) => !a.internal && a.family === (v6 ? 'IPv6' : 'IPv4'));
    const linkLocal = mine.filter((a) => v6 && /^fe[89ab]/i.test(a.address));
    if (linkLocal.length > 1) twoLinkLocal = true;
    for (const a of mine) found.push(linkLocal.includes(a) ? `${a.address}%${name}` : a.address);
  }
  const routable = found.filter((a) => !a.includes('%'));
  return routable.length > 1 || twoLinkLocal ? found : undefined;
}

/**
 * Warns once (`tftp.source.ambiguous`) when `l` cannot answer from each request's address (`why`) and the
 * host has several addresses a reply might leave from.
 */
export function warnIfAmbiguous(l: TftpListener, log: Logger, why: string, interfaces?: Interfaces): void {
  if (l.knowsDestination) return;
  const addresses = sourceAmbiguity(l.address, interfaces);
  if (!addresses) return;
  const key = l.type === 'udp6' ? 'tftp.address6' : 'tftp.address';
  log.warn(
    { event: 'tftp.source.ambiguous', address: l.address, addresses, why },
    `TFTP on ${l.address} cannot answer from the address each request was sent to (${why}), and this host has ` +
      `${addresses.join(', ')}: clients that check the source (UEFI firmware: PXE-E18) drop answers from ` +
      `another. Fix: set ${key} to the address clients use, or use the native transport (build the addon: ` +
      'a C compiler and `npm rebuild`; tftp.transport "auto", no singlePort).',
  );
}
