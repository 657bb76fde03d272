/**
 * A bounded queue in front of one DHCP socket. node:dgram hands every send to libuv, which queues
 * without bound when the socket buffer is full (EAGAIN): under a flood, replies to junk wait there
 * ahead of real clients for as long as the flood lasts, and a client's OFFER can leave seconds after
 * the client gave up. Here at most `maxInFlight` replies are with the kernel/libuv at a time; the rest
 * wait in a ring of `maxQueued`, and when it is full the oldest is dropped, as is any reply older than
 * `maxAgeMs` by the time it would leave (its client has retransmitted by then; a fresh answer follows).
 */
export interface ReplySocket {
  send(msg: Buffer, port: number, address: string, callback: (err: Error | null) => void): void;
}

export interface ReplyQueueOptions {
  maxInFlight?: number;
  maxQueued?: number;
  maxAgeMs?: number;
  /** Called for each reply dropped unsent, with why. */
  onDrop?: (reason: 'queue-full' | 'too-old', to: { address: string; port: number }) => void;
  /** Called when a send fails in the kernel. */
  onError?: (err: Error, to: { address: string; port: number }) => void;
  now?: () => number;
}

interface Pending {
  buf: Buffer;
  port: number;
  address: string;
  at: number;
}

export class ReplyQueue {
  readonly #socket: ReplySocket;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #maxAgeMs: number;
  readonly #o: ReplyQueueOptions;
  readonly #now: () => number;
  /** Ring buffer of waiting replies: #head is the oldest, #size how many. */
  readonly #ring: Array<Pending | undefined>;
  #head = 0;
  #size = 0;
  #inFlight = 0;
  #dropped = 0;
  #draining = false;

  constructor(socket: ReplySocket, opts: ReplyQueueOptions = {}) {
    this.#socket = socket;
    this.#o = opts;
    this.#maxInFlight = opts.maxInFlight ?? 64;
    this.#maxQueued = opts.maxQueued ?? 1024;
    this.#maxAgeMs = opts.maxAgeMs ?? 2000;
    this.#now = opts.now ?? Date.now;
    this.#ring = new Array<Pending | undefined>(this.#maxQueued);
  }

  /** Replies waiting here (not yet handed to the socket). */
  get queued(): number {
    return this.#size;
  }

  /** Replies handed to the socket whose send has not completed. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Replies dropped unsent since the queue was made. */
  get dropped(): number {
    return this.#dropped;
  }

  send(buf: Buffer, port: number, address: string): void {
    if (this.#inFlight < this.#maxInFlight && this.#size === 0) return this.#transmit(buf, port, address);
    if (this.#size === this.#maxQueued) {
      const oldest = this.#shift()!;
      this.#drop('queue-full', oldest);
    }
    this.#ring[(this.#head + this.#size) % this.#maxQueued] = { buf, port, address, at: this.#now() };
    this.#size++;
  }

  #transmit(buf: Buffer, port: number, address: string): void {
    this.#inFlight++;
    this.#socket.send(buf, port, address, (err) => {
      this.#inFlight--;
      if (err) this.#o.onError?.(err, { address, port });
      this.#drain();
    });
  }

  #drain(): void {
    // A socket may call back synchronously (the native one, when the kernel took the reply at once): the
    // loop below then goes on instead of one nested drain per reply.
    if (this.#draining) return;
    this.#draining = true;
    try {
      const now = this.#now();
      while (this.#size > 0 && this.#inFlight < this.#maxInFlight) {
        const p = this.#shift()!;
        if (now - p.at > this.#maxAgeMs) this.#drop('too-old', p);
        else this.#transmit(p.buf, p.port, p.address);
      }
    } finally {
      this.#draining = false;
    }
  }

  #shift(): Pending | undefined {
    if (this.#size === 0) return undefined;
    const p = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#maxQueued;
    this.#size--;
    return p;
  }

  #drop(reason: 'queue-full' | 'too-old', p: Pending): void {
    this.#dropped++;
    this.#o.onDrop?.(reason, { address: p.address, port: p.port });
  }
}
