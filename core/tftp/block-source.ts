/**
 * Pulls a file stream into DATA blocks with bounded buffering: the stream is paused once about
 * `highWater` bytes are queued, so a transfer holds at most its window buffers plus one or two stream
 * chunks, never the whole file. Optional netascii conversion (RFC 1350 / RFC 764): LF → CR LF, CR → CR NUL,
 * byte by byte (the local file is taken to be Unix text, as tftp-hpa does).
 */
import type { Readable } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;

/** Converts one chunk to netascii. Stateless: every byte maps independently. */
export function toNetascii(chunk: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === LF || b === CR) extra++;
  }
  if (extra === 0) return chunk;
  const out = Buffer.allocUnsafe(chunk.length + extra);
  let o = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!;
    if (b === LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else if (b === CR) {
      out[o++] = CR;
      out[o++] = 0;
    } else out[o++] = b;
  }
  return out;
}

/** Size of a stream after netascii conversion (for `tsize` in netascii mode: RFC 2349 wants the converted size). */
export async function netasciiSize(stream: Readable): Promise<number> {
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i];
        if (b === LF || b === CR) size++;
      }
    }
  } finally {
    stream.destroy();
  }
  return size;
}

export class BlockSource {
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #pos = 0; // offset into queue[0]
  #filled = 0; // bytes already in the block being filled
  #ended = false;
  #paused = false;
  #waiter: (() => void) | undefined;
  error: Error | undefined;

  readonly #stream: Readable;
  readonly #netascii: boolean;
  readonly #highWater: number;
  constructor(stream: Readable, netascii: boolean, highWater = 64 * 1024) {
    this.#stream = stream;
    this.#netascii = netascii;
    this.#highWater = highWater;
    stream.on('data', (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const c = this.#netascii ? toNetascii(buf) : buf;
      if (c.length === 0) return;
      this.#queue.push(c);
      this.#queued += c.length;
      if (this.#queued >= this.#highWater && !this.#paused) {
        this.#paused = true;
        stream.pause();
      }
      this.#wake();
    });
    stream.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    stream.on('error', (err: Error) => {
      this.error = err;
      this.#wake();
    });
  }

  /**
   * Fills `target[offset .. offset+len)` for the current block. Returns the block's length once complete
   * (`len`, or less at end of file), or `undefined` if it must wait: call `onReady` and retry.
   */
  fill(target: Buffer, offset: number, len: number): number | undefined {
    while (this.#filled < len && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const n = Math.min(len - this.#filled, head.length - this.#pos);
      head.copy(target, offset + this.#filled, this.#pos, this.#pos + n);
      this.#filled += n;
      this.#pos += n;
      this.#queued -= n;
      if (this.#pos === head.length) {
        this.#queue.shift();
        this.#pos = 0;
      }
    }
    if (this.#paused && this.#queued < this.#highWater / 2) {
      this.#paused = false;
      this.#stream.resume();
    }
    if (this.#filled === len || (this.#ended && this.#queue.length === 0)) {
      const got = this.#filled;
      this.#filled = 0;
      return got;
    }
    return undefined;
  }

  /** True when the stream has ended and every byte was handed out. */
  get exhausted(): boolean {
    return this.#ended && this.#queue.length === 0;
  }

  /** One-shot callback for the next data, end or error. */
  onReady(cb: () => void): void {
    this.#waiter = cb;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  destroy(): void {
    this.#waiter = undefined;
    this.#stream.destroy();
  }
}
