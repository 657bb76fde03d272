/**
 * Typed wrapper over the addon's listening socket (listen-socket.c): an unconnected UDP socket that reports,
 * with each datagram, the local address it was sent to (IP_PKTINFO / IPV6_RECVPKTINFO), and sends with a
 * chosen source address. node:dgram has neither. The TFTP listener uses it (core/tftp/listener.ts) so that
 * every reply leaves from the address the client sent its request to, also when bound to 0.0.0.0 or ::.
 */
import { constants } from 'node:os';
import { nativeBinding, type NativeBinding } from './binding.js';
import { errnoError } from './udp-socket.js';

/** Receive buffer: the largest UDP payload, so a request is never cut short. */
export const LISTEN_RECV_BYTES = 65_536;

export interface ListenSocketEvents {
  /**
   * A datagram of `len` bytes in `buf` (valid only during the call; `len > buf.length`: truncated) from
   * `from`:`fromPort`, sent to the local address `to` (undefined when the kernel did not say). Addresses are
   * written as node:dgram writes them: `fe80::1%eth0`, `::ffff:10.0.0.1` on a dual-stack socket.
   */
  onMessage(buf: Buffer, len: number, from: string, fromPort: number, to: string | undefined): void;
  /** A socket error (reported, the socket keeps listening). */
  onError(err: NodeJS.ErrnoException): void;
}

/** Whether the addon has the listening socket (a stale build may not), or why not. */
export function nativeListen(): { available: boolean; reason?: string } {
  const { binding, reason } = nativeBinding();
  if (!binding) return { available: false, reason: reason ?? 'unknown' };
  if (!binding.listenOpen)
    return { available: false, reason: 'the native addon is older than listenOpen (npm rebuild)' };
  return { available: true };
}

export class NativeListenSocket {
  readonly #b: NativeBinding;
  readonly #h: object;
  readonly #recv = Buffer.allocUnsafe(LISTEN_RECV_BYTES);
  #closed = false;

  /**
   * Binds `address`:`port` (0: ephemeral); an IPv6 socket takes IPv4 clients too unless `ipv6Only`.
   * Throws an errno error (`code` EADDRINUSE, EACCES, EADDRNOTAVAIL, …) as node:dgram's bind would.
   */
  constructor(address: string, port: number, ipv6Only: boolean, events: ListenSocketEvents) {
    const b = nativeBinding().binding;
    if (!b?.listenOpen) throw new Error(`native listening socket unavailable: ${nativeListen().reason ?? 'unknown'}`);
    this.#b = b;
    const h = b.listenOpen(address, port, ipv6Only, this.#recv, (kind, value, from, fromPort, to) => {
      if (this.#closed) return;
      if (kind === 0) events.onMessage(this.#recv, value, from, fromPort, to === '' ? undefined : to);
      else events.onError(errnoError(value, 'recv'));
    });
    if (typeof h === 'number') throw Object.assign(errnoError(-h, 'bind'), { address, port });
    this.#h = h;
  }

  get port(): number {
    return this.#b.listenLocalPort!(this.#h);
  }

  /**
   * Sends `buf` to `address`:`port` from the local address `from` (undefined: the kernel's choice).
   * Returns undefined once sent, or the errno error (EAGAIN when the send buffer is full: not queued).
   */
  send(buf: Buffer, address: string, port: number, from: string | undefined): NodeJS.ErrnoException | undefined {
    if (this.#closed) return errnoError(constants.errno.EBADF, 'send');
    const r = this.#b.listenSend!(this.#h, buf, buf.length, address, port, from ?? '');
    return r >= 0 ? undefined : errnoError(-r, 'send');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#b.listenClose!(this.#h);
  }
}
