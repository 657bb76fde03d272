/**
 * Typed wrapper over the addon's DHCP socket (dhcp-socket.c): an unconnected UDP/IPv4 socket that takes
 * up to 32 datagrams per wake-up with one recvmmsg and sends each reply with one sendto, instead of
 * node:dgram's per-datagram Buffer + rinfo + event and per-send request. The DHCP listener uses it when the
 * addon loaded (core/dhcp/listener.ts), node:dgram otherwise; `PXEKIT_NATIVE_DHCP=0` forces node:dgram.
 *
 * Each datagram reaches `onMessage` in a Buffer of its own (copied out of the batch buffer, which the next
 * wake-up reuses), so the pipeline may keep it across awaits. `send` has dgram's signature; when the
 * kernel's buffer is full the reply waits here, in order, until the socket is writable (the DHCP reply
 * queue in front of it bounds how many).
 *
 * A datagram that waited in the kernel's receive queue longer than `maxQueueAgeMs` (default
 * DHCP_MAX_QUEUE_AGE_MS) is dropped unread (dhcp-socket.c): after a flood the 4 MiB queue holds about a
 * second of work, and a real client's DISCOVER behind it would wait for its own retransmission. Once one
 * was stale, a quarter of the limit applies until the queue is empty (dhcp-socket.c: OVERLOAD_DIVISOR).
 */
import { nativeBinding, type NativeBinding } from './binding.js';
import { copyBytes } from './file-read.js';
import { errnoError } from './udp-socket.js';
import { constants } from 'node:os';

/** Datagrams taken per wake-up. */
export const DHCP_BATCH = 32;
/**
 * How long a request may wait in the kernel's queue and still be answered: less than the 1 s of the
 * quickest client retransmission (iPXE, EDK2's first), far more than the ~30 ms pauses the big queue
 * absorbs at a cold start. Older ones are dropped unread; their clients ask again.
 */
export const DHCP_MAX_QUEUE_AGE_MS = 500;
/** Bytes per datagram slot: DHCP messages are at most a few hundred bytes over Ethernet (RFC 2131 §2: 576 minimum). */
export const DHCP_SLOT_BYTES = 2048;

const EAGAIN = constants.errno.EAGAIN;
const EMSGSIZE = constants.errno.EMSGSIZE;

export interface DhcpSocketEvents {
  /** A datagram from `address`:`port`, in a Buffer the receiver owns. */
  onMessage(buf: Buffer, address: string, port: number): void;
  /** A socket error, or EMSGSIZE for a datagram longer than a slot (dropped). */
  onError(err: NodeJS.ErrnoException): void;
  /** `count` datagrams of one batch were dropped unread: they waited longer than the age limit. */
  onStale?(count: number): void;
}

/** Whether the DHCP listener should use the addon's socket. */
export function nativeDhcpAvailable(): boolean {
  if (process.env.PXEKIT_NATIVE_DHCP === '0') return false;
  return nativeBinding().binding?.dgramOpen !== undefined;
}

const ipv4Number = (address: string): number | undefined => {
  const p = address.split('.');
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const part of p) {
    const v = Number(part);
    if (!Number.isInteger(v) || v < 0 || v > 255 || part === '') return undefined;
    n = n * 256 + v;
  }
  return n;
};

const ipv4String = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

interface PendingSend {
  buf: Buffer;
  addr: number;
  port: number;
  address: string;
  cb: (err: Error | null) => void;
}

export class NativeDhcpSocket {
  readonly #b: NativeBinding;
  readonly #h: object;
  readonly #slots = Buffer.allocUnsafe(DHCP_BATCH * DHCP_SLOT_BYTES);
  readonly #meta = new Int32Array(DHCP_BATCH * 3);
  readonly #events: DhcpSocketEvents;
  readonly #pending: PendingSend[] = [];
  #closed = false;

  /** Binds `address`:`port` (0: any); throws an errno error (EADDRINUSE, EACCES, …) as dgram's bind would. */
  constructor(
    address: string,
    port: number,
    reuseAddr: boolean,
    events: DhcpSocketEvents,
    maxQueueAgeMs = DHCP_MAX_QUEUE_AGE_MS,
  ) {
    const b = nativeBinding().binding;
    if (!b?.dgramOpen) throw new Error('native DHCP socket unavailable');
    this.#b = b;
    this.#events = events;
    const h = b.dgramOpen!(
      address,
      port,
      reuseAddr,
      this.#slots,
      this.#meta,
      (kind, value) => this.#onEvent(kind, value),
      maxQueueAgeMs,
    );
    if (typeof h === 'number') throw errnoError(-h, 'bind');
    this.#h = h;
  }

  get port(): number {
    return this.#b.dgramLocalPort!(this.#h);
  }

  /** dgram's send(msg, port, address, cb): the callback runs once the reply left (or failed). */
  send(buf: Buffer, port: number, address: string, cb: (err: Error | null) => void): void {
    const addr = ipv4Number(address);
    if (addr === undefined) return cb(new Error(`not an IPv4 address: ${address}`));
    if (this.#closed) return cb(errnoError(constants.errno.EBADF, 'send'));
    if (this.#pending.length > 0) {
      this.#pending.push({ buf, addr, port, address, cb });
      return;
    }
    const r = this.#b.dgramSend!(this.#h, buf, buf.length, addr, port);
    if (r >= 0) return cb(null);
    if (-r !== EAGAIN) return cb(errnoError(-r, 'send'));
    this.#pending.push({ buf, addr, port, address, cb });
    this.#b.dgramWantWritable!(this.#h, true);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#b.dgramClose!(this.#h);
    const pending = this.#pending.splice(0);
    for (const p of pending) p.cb(errnoError(constants.errno.EBADF, 'send'));
  }

  #onEvent(kind: number, value: number): void {
    if (this.#closed) return;
    if (kind === 0) return this.#deliver(value);
    if (kind === 1) return this.#events.onError(errnoError(value, 'recv'));
    this.#flush();
  }

  #deliver(count: number): void {
    const meta = this.#meta;
    let stale = 0;
    for (let i = 0; i < count && !this.#closed; i++) {
      const len = meta[3 * i]!;
      if (len === -2) {
        stale++;
        continue;
      }
      const from = ipv4String(meta[3 * i + 1]! >>> 0);
      if (len < 0) {
        this.#events.onError(Object.assign(errnoError(EMSGSIZE, 'recv'), { address: from }));
        continue;
      }
      const buf = Buffer.allocUnsafe(len);
      copyBytes(buf, 0, this.#slots, i * DHCP_SLOT_BYTES, len);
      this.#events.onMessage(buf, from, meta[3 * i + 2]!);
    }
    if (stale > 0 && !this.#closed) this.#events.onStale?.(stale);
  }

  #flush(): void {
    while (this.#pending.length > 0 && !this.#closed) {
      const p = this.#pending[0]!;
      const r = this.#b.dgramSend!(this.#h, p.buf, p.buf.length, p.addr, p.port);
      if (r < 0 && -r === EAGAIN) {
        this.#b.dgramWantWritable!(this.#h, true);
        return;
      }
      this.#pending.shift();
      p.cb(r < 0 ? errnoError(-r, 'send') : null);
    }
  }
}
