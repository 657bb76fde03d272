/**
 * DATA blocks from positional reads (`FileHandle.openReader`), two ways:
 *
 * - Direct (a reader with `readCached`: source-disk with the native addon): each block is read from the
 *   page cache straight into its DATA packet, one pread per block like dnsmasq, with no buffer, no copy
 *   and no garbage; the transfer reads it while the client is still busy with the previous one (prefill).
 * - Buffered (no readCached, or the block is not in the page cache): ONE read-ahead buffer per transfer,
 *   reused for the whole file, about one window (windowsize × blksize, 32–256 KiB). A refill starts as soon
 *   as less than half is unread, so the next window is usually read while the client acknowledges this
 *   one. With readCached the buffer is refilled only when a block needs it, so it drains and direct reads
 *   take over again once the file is cached (the async read warmed it).
 *
 * No stream chunk is allocated per read, so hundreds of concurrent transfers leave no garbage behind (a
 * 64 KiB `fs.ReadStream` chunk per read was most of the server's peak memory). Same interface as
 * BlockSource (octet mode only).
 */
import type { FileReader } from '../files/types.js';
import { copyBytes } from '../native/file-read.js';

export const MIN_CHUNK = 32 * 1024;
export const MAX_CHUNK = 256 * 1024;

export class PositionalBlockSource {
  /** Allocated on first buffered read: a transfer served straight from the page cache never needs it. */
  #buf: Buffer = Buffer.alloc(0);
  readonly #chunk: number;
  #start = 0; // first unread byte in buf
  #end = 0; // end of valid data in buf
  #filePos = 0; // file offset of the next read
  #filled = 0; // bytes already in the block being filled
  #eof = false;
  #reading = false;
  #destroyed = false;
  #waiter: (() => void) | undefined;
  error: Error | undefined;

  readonly #reader: FileReader;
  readonly #size: number;
  constructor(
    reader: FileReader,
    /** Bytes the source announced: reads stop there even if the file grew (tsize must stay true). */
    size: number,
    chunk: number,
  ) {
    this.#reader = reader;
    this.#size = size;
    this.#chunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, chunk));
    if (reader.readCached === undefined) this.#refill(); // else the first fill() tries the page cache first
  }

  /** Fills `target[offset .. offset+len)`; the block's length when complete, undefined to wait (onReady). */
  fill(target: Buffer, offset: number, len: number): number | undefined {
    if (this.#start === this.#end && this.#filled === 0) {
      const direct = this.#readDirect(target, offset, len);
      if (direct !== undefined) return direct;
    }
    this.#copyInto(target, offset, len);
    // Without readCached: refill whenever half the buffer is free (read-ahead). With it: only when the
    // buffer cannot complete this block, so it drains and the direct path above takes over again. A
    // refill served from memory completes at once: take from it before waiting.
    if (this.#reader.readCached === undefined || this.#filled < len) {
      while (this.#refill() && this.#filled < len) this.#copyInto(target, offset, len);
    }
    if (this.#filled === len || (this.#eof && this.#end === this.#start)) {
      const got = this.#filled;
      this.#filled = 0;
      return got;
    }
    return undefined;
  }

  /**
   * With `readCached` and nothing buffered: the block straight from the page cache into the DATA packet,
   * one pread per block like dnsmasq, with no copy and no garbage. Undefined: not cached (or a short
   * read, kept in `filled`), so the buffered path goes on from where this stopped.
   */
  #readDirect(target: Buffer, offset: number, len: number): number | undefined {
    const rc = this.#reader.readCached;
    if (rc === undefined || this.#reading || this.#eof || this.#destroyed || this.error) return undefined;
    const want = Math.min(len, this.#size - this.#filePos);
    if (want <= 0) {
      this.#eof = true;
      return 0;
    }
    const n = rc.call(this.#reader, target, offset, want, this.#filePos);
    if (n < 0) return undefined;
    if (n === 0) {
      this.#shrank();
      return undefined;
    }
    this.#filePos += n;
    if (this.#filePos >= this.#size) this.#eof = true;
    if (n === want || this.#eof) return n;
    this.#filled = n;
    return undefined;
  }

  /**
   * The file descriptor a native chain may read the next blocks from, when the next block would come
   * straight from the page cache at `nextBlockOffset` (direct mode: nothing buffered or being read);
   * undefined otherwise. Blocks the chain reads are accounted for with skip().
   */
  chainFd(nextBlockOffset: number): number | undefined {
    const fd = this.#reader.fd;
    if (fd === undefined || this.#reader.readCached === undefined) return undefined;
    if (this.#reading || this.#eof || this.#destroyed || this.error) return undefined;
    if (this.#start !== this.#end || this.#filled !== 0 || this.#filePos !== nextBlockOffset) return undefined;
    return fd;
  }

  /** `bytes` of the file were read past this source (by a native chain): the next fill() starts after them. */
  skip(bytes: number): void {
    this.#filePos += bytes;
    if (this.#filePos >= this.#size) this.#eof = true;
  }

  #copyInto(target: Buffer, offset: number, len: number): void {
    const n = Math.min(len - this.#filled, this.#end - this.#start);
    if (n <= 0) return;
    copyBytes(target, offset + this.#filled, this.#buf, this.#start, n);
    this.#filled += n;
    this.#start += n;
  }

  get exhausted(): boolean {
    return this.#eof && this.#end === this.#start;
  }

  onReady(cb: () => void): void {
    this.#waiter = cb;
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#waiter = undefined;
    // FileHandle.close waits for a read in flight; errors on close are of no use to anyone here.
    this.#reader.close().catch(() => undefined);
  }

  /**
   * Reads when half the buffer is free and no read is running: synchronously when the reader can serve
   * it from memory (returns true: data or the end arrived), else asynchronously (false; onReady wakes).
   */
  #refill(): boolean {
    if (this.#reading || this.#eof || this.#destroyed || this.error) return false;
    if (this.#buf.length === 0) this.#buf = Buffer.allocUnsafe(this.#chunk);
    if (this.#end - this.#start > this.#buf.length / 2) return false;
    if (this.#start > 0) {
      // Compact: move the unread tail to the front (at most half the buffer).
      this.#buf.copy(this.#buf, 0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const want = Math.min(this.#buf.length - this.#end, this.#size - this.#filePos);
    if (want <= 0) {
      this.#eof = true; // fill() checks eof right after calling refill(): no wake needed
      return true;
    }
    const cached = this.#reader.readCached?.(this.#buf, this.#end, want, this.#filePos) ?? -1;
    if (cached >= 0) {
      this.#advance(cached);
      return true;
    }
    this.#reading = true;
    this.#reader.read(this.#buf, this.#end, want, this.#filePos).then(
      (n) => {
        this.#reading = false;
        if (this.#destroyed) return;
        this.#advance(n);
        this.#wake();
      },
      (err: unknown) => {
        this.#reading = false;
        this.error = err instanceof Error ? err : new Error(String(err));
        this.#wake();
      },
    );
    return false;
  }

  #advance(n: number): void {
    if (n === 0) return this.#shrank();
    this.#end += n;
    this.#filePos += n;
    if (this.#filePos >= this.#size) this.#eof = true;
  }

  /**
   * The file ended before the size announced (it shrank since the request): an error, not a short last
   * block, so the client gets ERROR 0 rather than a shorter file that looks complete.
   */
  #shrank(): void {
    this.error = new Error(
      `the file came up short at byte ${this.#filePos} of the ${this.#size} announced (it shrank)`,
    );
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}
