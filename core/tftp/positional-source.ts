/**
 * DATA blocks from positional reads (`FileHandle.openReader`) into ONE buffer per transfer, reused for
 * the whole file: no stream chunk is allocated per read, so hundreds of concurrent transfers leave no
 * garbage behind (a 64 KiB `fs.ReadStream` chunk per read was most of the server's peak memory).
 *
 * The buffer holds about one window (windowsize × blksize, at least 32 KiB, at most 256 KiB). A refill
 * starts as soon as less than half of it is unread, so the next window is usually read while the client
 * is still acknowledging this one. A reader with `readCached` (source-disk with the native addon) serves
 * page-cache hits synchronously, without a thread-pool round trip; misses fall back to the async read.
 * Same interface as BlockSource (octet mode only).
 */
import type { FileReader } from '../files/types.js';

export const MIN_CHUNK = 32 * 1024;
export const MAX_CHUNK = 256 * 1024;

export class PositionalBlockSource {
  private readonly buf: Buffer;
  private start = 0; // first unread byte in buf
  private end = 0; // end of valid data in buf
  private filePos = 0; // file offset of the next read
  private filled = 0; // bytes already in the block being filled
  private eof = false;
  private reading = false;
  private destroyed = false;
  private waiter: (() => void) | undefined;
  error: Error | undefined;

  constructor(
    private readonly reader: FileReader,
    /** Bytes the source announced: reads stop there even if the file grew (tsize must stay true). */
    private readonly size: number,
    chunk: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, chunk)));
    this.refill(); // anything read synchronously here is taken by the first fill()
  }

  /** Fills `target[offset .. offset+len)`; the block's length when complete, undefined to wait (onReady). */
  fill(target: Buffer, offset: number, len: number): number | undefined {
    this.copyInto(target, offset, len);
    // A refill served from memory (readCached) completes at once: take from it before waiting.
    while (this.refill() && this.filled < len) this.copyInto(target, offset, len);
    if (this.filled === len || (this.eof && this.end === this.start)) {
      const got = this.filled;
      this.filled = 0;
      return got;
    }
    return undefined;
  }

  private copyInto(target: Buffer, offset: number, len: number): void {
    const n = Math.min(len - this.filled, this.end - this.start);
    if (n <= 0) return;
    this.buf.copy(target, offset + this.filled, this.start, this.start + n);
    this.filled += n;
    this.start += n;
  }

  get exhausted(): boolean {
    return this.eof && this.end === this.start;
  }

  onReady(cb: () => void): void {
    this.waiter = cb;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.waiter = undefined;
    // FileHandle.close waits for a read in flight; errors on close are of no use to anyone here.
    this.reader.close().catch(() => undefined);
  }

  /**
   * Reads when half the buffer is free and no read is running: synchronously when the reader can serve
   * it from memory (returns true: data or the end arrived), else asynchronously (false; onReady wakes).
   */
  private refill(): boolean {
    if (this.reading || this.eof || this.destroyed || this.error) return false;
    if (this.end - this.start > this.buf.length / 2) return false;
    if (this.start > 0) {
      // Compact: move the unread tail to the front (at most half the buffer).
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    const want = Math.min(this.buf.length - this.end, this.size - this.filePos);
    if (want <= 0) {
      this.eof = true; // fill() checks eof right after calling refill(): no wake needed
      return true;
    }
    const cached = this.reader.readCached?.(this.buf, this.end, want, this.filePos) ?? -1;
    if (cached >= 0) {
      this.advance(cached);
      return true;
    }
    this.reading = true;
    this.reader.read(this.buf, this.end, want, this.filePos).then(
      (n) => {
        this.reading = false;
        if (this.destroyed) return;
        this.advance(n);
        this.wake();
      },
      (err: unknown) => {
        this.reading = false;
        this.error = err instanceof Error ? err : new Error(String(err));
        this.wake();
      },
    );
    return false;
  }

  private advance(n: number): void {
    if (n === 0) this.eof = true; // the file shrank: the transfer ends short rather than hang
    this.end += n;
    this.filePos += n;
    if (this.filePos >= this.size) this.eof = true;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
