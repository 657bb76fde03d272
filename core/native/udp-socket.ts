/**
 * Typed wrapper over the optional native transfer socket (udp-socket.c in the addon that build.mjs
 * builds during `npm ci`). TFTP transfers use it when it loaded, node:dgram otherwise; the protocol is the same
 * TypeScript either way. Why it exists: docs/benchmarks.md#tftp (per-packet cost of node:dgram).
 *
 * A datagram arrives in one receive buffer owned by the socket and reused: `onPacket(buf, len)` must
 * finish with the bytes before it returns. `send` is synchronous; when the kernel's send buffer is full
 * the packet is copied into a bounded queue and sent when the socket is writable again (what libuv does
 * for node:dgram), so a window burst is never silently cut short.
 */
import { constants } from 'node:os';
import { nativeBinding, type NativeBinding } from './binding.js';

/** Largest datagram delivered whole; longer ones are reported as truncated (TFTP clients send ≤ 516 bytes). */
export const RECV_BUFFER_BYTES = 2048;
/** Packets held while the kernel's send buffer is full; past it packets are dropped (retransmission recovers). */
export const MAX_QUEUED_PACKETS = 256;

const EAGAIN = constants.errno.EAGAIN;
const errnoName = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** Whether transfer sockets can be native, or why not. */
export function nativeUdp(): { available: boolean; reason?: string } {
  const { binding, reason } = nativeBinding();
  return binding ? { available: true } : { available: false, reason: reason ?? 'unknown' };
}

/**
 * How the armed replies of native transfer sockets go out on this thread: together at the end of each
 * event-loop turn with one io_uring_enter ("io_uring") or one sendmsg each ("sendmsg"), or each at once
 * ("off": PXEKIT_TFTP_BATCH=0). Undefined without the addon.
 */
export function replyBatching(binding = nativeBinding().binding): 'io_uring' | 'sendmsg' | 'off' | undefined {
  return binding?.batchMode?.();
}

/** Replies the batch sent by io_uring and by sendmsg on this thread so far (tests, diagnostics). */
export function replyBatchCounts(binding = nativeBinding().binding): { ring: number; sendmsg: number } {
  const [ring, sendmsg] = binding?.batchCounts?.() ?? [0, 0];
  return { ring, sendmsg };
}

export function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  const code = errnoName.get(errno) ?? `E${errno}`;
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  return err;
}

export interface NativeUdpEvents {
  /**
   * A datagram of `len` bytes is in `buf` (valid only during the call); `len > buf.length`: truncated.
   * `replied`: it matched the armed reply, which was sent just before this call. `steps`: ACKs the armed
   * chain answered by itself before this datagram (see armChain); account for them first.
   */
  onPacket(buf: Buffer, len: number, replied: boolean, steps: number): void;
  /** A socket error (ECONNREFUSED after an ICMP port unreachable, …); reported once per occurrence, async for sends. */
  onError(err: NodeJS.ErrnoException): void;
  /**
   * A block the chain sent from the file could not be read back into its slot (`pread`; EIO: the file
   * shrank): the transfer cannot go on. Without this handler, onError gets it.
   */
  onReadError?(err: NodeJS.ErrnoException): void;
}

/**
 * A lock-step transfer's file and slots for armChain: block b's DATA packet lives in `slots[b & 1]`
 * (4-byte header, then blksize bytes), block b holds the file's bytes [(b - 1) × blksize, b × blksize).
 */
export interface ChainSource {
  fd: number;
  slots: readonly [Buffer, Buffer];
  /** Absolute number of the armed block (the one in `buf`). */
  block: number;
  blksize: number;
  /** Bytes of the file to send: the chain never reads the block that would end it. */
  size: number;
}

/** A UDP socket bound to `local`:ephemeral and connected to the peer, like dgram's bind(0) + connect(). */
export class NativeUdpSocket {
  private readonly b: NativeBinding;
  private readonly h: object;
  private readonly recv = Buffer.allocUnsafe(RECV_BUFFER_BYTES);
  private readonly queue: Buffer[] = [];
  private readonly key = Buffer.alloc(4);
  private armed: Buffer | undefined;
  /** The chain's slots, referenced while the addon may write into them (it holds only pointers). */
  private chainSlots: readonly Buffer[] | undefined;
  /** Chain steps reported with a callback that was not a packet (see open's callback). */
  private unreported = 0;
  private closed = false;
  /** Packets dropped because the send queue was full. */
  dropped = 0;

  constructor(
    local: string,
    peer: string,
    port: number,
    private readonly events: NativeUdpEvents,
    binding = nativeBinding().binding,
  ) {
    if (!binding) throw new Error(`native UDP socket unavailable: ${nativeBinding().reason ?? 'unknown'}`);
    this.b = binding;
    this.h = binding.open(local, peer, port, this.recv, (kind, value, steps) => {
      if (this.closed) return;
      if (kind === 3) this.armed = undefined; // fired (one-shot); a chain stops before JavaScript runs
      // Chain steps come with every callback; those reported with an error or a writable event wait
      // for the next packet or chainSteps(), so the transfer never loses count.
      this.unreported += steps ?? 0;
      if (kind === 0 || kind === 3) {
        const all = this.unreported;
        this.unreported = 0;
        this.events.onPacket(this.recv, value, kind === 3, all);
      } else if (kind === 1) this.events.onError(errnoError(value, 'recv'));
      else if (kind === 4) this.readError(value);
      else this.flush();
    });
  }

  private readError(errno: number): void {
    const err = errnoError(errno, 'pread');
    err.message += ': a block sent from the file could not be read again (it shrank or changed under the transfer)';
    (this.events.onReadError ?? this.events.onError).call(this.events, err);
  }

  get localPort(): number {
    return this.b.localPort(this.h);
  }

  /** Sends `buf[0, len)`. Never throws: errors go to onError on the next tick. */
  send(buf: Buffer, len = buf.length): void {
    if (this.closed) return;
    if (this.queue.length > 0) return this.enqueue(buf, len); // keep order behind what waits
    const r = this.b.send(this.h, buf, len);
    if (r >= 0) return;
    if (-r === EAGAIN) {
      this.disarm(); // an armed reply must not overtake what now waits in the queue
      this.enqueue(buf, len);
      this.b.wantWritable(this.h, true);
      return;
    }
    const err = errnoError(-r, 'send');
    process.nextTick(() => {
      if (!this.closed) this.events.onError(err);
    });
  }

  /**
   * Arms a one-shot reply: when the next datagram starts with the 4 bytes of `prefix` (big-endian), the
   * addon sends `buf[0, len)` before calling onPacket (with `replied` true). `buf` must not change while
   * armed. Not armed (false) while sends are queued, so a reply never overtakes them.
   */
  armReply(prefix: number, buf: Buffer, len: number): boolean {
    if (this.closed || this.queue.length > 0) return false;
    this.key.writeUInt32BE(prefix >>> 0, 0);
    this.armed = buf; // the addon holds only a pointer: this keeps the bytes alive
    this.b.armReply(this.h, this.key, buf, len);
    return true;
  }

  /**
   * armReply, and then the addon goes on by itself: each time the armed block goes out it arms the next
   * one (its header in the other slot, its bytes sent from a shared mapping of `chain.fd`'s file, page
   * cache only), until the block that ends the file, a block not in the page cache, or a failed send. The
   * slots hold whole blocks again whenever JavaScript can look (every callback and call settles them).
   * JavaScript learns how many ACKs it answered from onPacket's `steps` or from chainSteps(). Not armed
   * (false) while sends are queued.
   */
  armChain(prefix: number, buf: Buffer, len: number, chain: ChainSource): boolean {
    if (this.closed || this.queue.length > 0 || this.b.armChain === undefined) return false;
    this.key.writeUInt32BE(prefix >>> 0, 0);
    this.armed = buf;
    this.chainSlots = chain.slots;
    const [slot0, slot1] = chain.slots;
    this.b.armChain(this.h, this.key, buf, len, chain.fd, slot0, slot1, chain.block, chain.blksize, chain.size);
    return true;
  }

  /** ACKs the chain answered since the last report (onPacket's `steps` or this), reset to 0. */
  chainSteps(): number {
    const all = this.unreported + (this.closed ? 0 : (this.b.chainSteps?.(this.h) ?? 0));
    this.unreported = 0;
    return all;
  }

  disarm(): void {
    this.armed = undefined;
    this.chainSlots = undefined;
    if (!this.closed) this.b.disarm(this.h);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.armed = undefined;
    this.chainSlots = undefined;
    this.b.close(this.h);
  }

  private enqueue(buf: Buffer, len: number): void {
    if (this.queue.length >= MAX_QUEUED_PACKETS) {
      this.dropped++;
      return;
    }
    // Copied: the transfer reuses its slot buffers as soon as send() returns.
    this.queue.push(Buffer.from(buf.subarray(0, len)));
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const next = this.queue[0]!;
      const r = this.b.send(this.h, next, next.length);
      if (r < 0 && -r === EAGAIN) {
        this.b.wantWritable(this.h, true);
        return;
      }
      this.queue.shift();
      if (r < 0) {
        this.events.onError(errnoError(-r, 'send'));
        return;
      }
    }
  }
}
