/**
 * One fill of a DiskCache entry: the whole object fetched once from its store and written to a temporary
 * file, which any number of readers follow while it grows. A reader's `read` at a position the fill has
 * not reached yet waits for it, so readers hold only their own buffers (never the object) and may lag
 * behind the fill or keep up with it. The fill runs on its own, apart from its readers: a client that goes
 * away does not stop it, so the next request finds the object cached. It ends complete (exactly `size`
 * bytes on disk; the DiskCache then renames the file into place) or failed (readers past what was written
 * get the error, so a partial file is never read as whole).
 */
import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import type { FileReader } from '../types.js';

/** Bytes gathered from the store before one write to the file (and one wake-up of waiting readers). */
const FLUSH_BYTES = 1 << 20;

export class CacheFill {
  readonly tmpPath: string;
  readonly size: number;
  /** Resolves once the store answered with a body (rejects when it did not): a caller can still answer 500. */
  readonly started: Promise<void>;
  /** Resolves once all `size` bytes are in the file; rejects when the fill failed. */
  readonly written: Promise<void>;
  #bytes = 0;
  /** Bytes readers may read: #bytes, except that the last piece shows only once the file is in place. */
  #visible = 0;
  #state: 'running' | 'done' | 'failed' = 'running';
  #error: Error | undefined;
  #file: fsp.FileHandle | undefined;
  #body: Readable | undefined;
  #aborted: Error | undefined;
  #onAbort: ((err: Error) => void) | undefined;
  #refs = 1;
  readonly #waiters = new Set<() => void>();

  /** Bytes received from the store (ahead of #bytes while a write is under way). */
  #received = 0;

  /** `idleMs`: a store body silent this long fails the fill (a hung fill would hold every reader). */
  /**
   * `place`: called once all bytes are written, before readers see the last of them (the DiskCache renames the
   * file into place and indexes it there, so a client that got every byte finds the object cached when it asks
   * again). Throwing fails the fill.
   */
  constructor(
    tmpPath: string,
    size: number,
    fetch: () => Promise<Readable>,
    idleMs: number,
    place: () => Promise<void>,
  ) {
    this.tmpPath = tmpPath;
    this.size = size;
    let onStarted!: () => void;
    let onStartFailed!: (err: unknown) => void;
    this.started = new Promise<void>((resolve, reject) => {
      onStarted = resolve;
      onStartFailed = reject;
    });
    this.written = this.#run(fetch, onStarted, idleMs, place).catch((err: unknown) => {
      onStartFailed(err);
      throw err;
    });
    // Whoever awaits these sees the rejection; nobody awaiting is not an unhandled rejection.
    this.started.catch(() => undefined);
    this.written.catch(() => undefined);
  }

  /** Bytes of the object already in the file (readable now). */
  get bytesWritten(): number {
    return this.#visible;
  }

  async #run(
    fetch: () => Promise<Readable>,
    onStarted: () => void,
    idleMs: number,
    place: () => Promise<void>,
  ): Promise<void> {
    let seen = -1;
    let writing = false;
    const watchdog = setInterval(() => {
      if (this.#body && !writing && this.#received === seen)
        this.abort(new Error(`the store sent no data for ${idleMs} ms`));
      seen = this.#received;
    }, idleMs);
    try {
      this.#file = await fsp.open(this.tmpPath, 'wx+');
      const body = await fetch();
      this.#body = body;
      if (this.#aborted) {
        body.destroy();
        throw this.#aborted;
      }
      onStarted();
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      // One batch is written while the next is read: the store keeps sending during a write (a pipe from git
      // holds only 64 KiB), and memory stays at two batches.
      let queued = 0;
      let inFlight: Promise<void> = Promise.resolve();
      // Each read can be cut short by abort(): a body whose destroy waits on its producer must not hold the
      // fill. (A fresh promise per read: racing one long-lived promise would keep every chunk reachable.)
      const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const nextChunk = () =>
        new Promise<IteratorResult<Buffer>>((resolve, reject) => {
          this.#onAbort = reject;
          chunks.next().then(resolve, reject);
        });
      for (;;) {
        if (this.#aborted) throw this.#aborted;
        const next = await nextChunk();
        if (next.done) break;
        const b = next.value;
        this.#received += b.length;
        pending.push(b);
        pendingBytes += b.length;
        if (queued + pendingBytes > this.size)
          throw new Error(`the store sent more than the ${this.size} bytes it announced`);
        if (pendingBytes >= FLUSH_BYTES) {
          writing = true;
          await inFlight;
          writing = false;
          inFlight = this.#append(pending, pendingBytes, queued);
          inFlight.catch(() => undefined); // awaited at the next batch or the end
          queued += pendingBytes;
          pending = [];
          pendingBytes = 0;
        }
      }
      writing = true;
      await inFlight;
      if (pendingBytes > 0) await this.#append(pending, pendingBytes, queued);
      if (this.#aborted) throw this.#aborted;
      if (this.#bytes !== this.size)
        throw new Error(`the store sent ${this.#bytes} of the ${this.size} bytes it announced`);
      await place();
      this.#visible = this.#bytes;
      this.#state = 'done';
    } catch (err) {
      this.#state = 'failed';
      this.#error = err instanceof Error ? err : new Error(String(err));
      this.#body?.destroy();
      throw this.#error;
    } finally {
      clearInterval(watchdog);
      this.#wake();
    }
  }

  /** Writes the gathered chunks at byte `at` (batches land in order), then lets waiting readers on. */
  async #append(chunks: Buffer[], length: number, at: number): Promise<void> {
    const file = this.#file!;
    let done = (await file.writev(chunks, at)).bytesWritten;
    if (done < length) {
      // A short vectored write (rare on regular files): finish it from one buffer.
      const rest = Buffer.concat(chunks).subarray(done);
      for (let off = 0; off < rest.length;) {
        const n = (await file.write(rest, off, rest.length - off, at + done)).bytesWritten;
        off += n;
        done += n;
      }
    }
    this.#bytes += length;
    if (this.#bytes < this.size) {
      this.#visible = this.#bytes;
      this.#wake();
    }
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  /** Stops the fill (server closing): the store's body is dropped and waiting readers fail. */
  abort(reason = new Error('cache fill cancelled')): void {
    if (this.#state !== 'running' || this.#aborted) return;
    this.#aborted = reason;
    this.#body?.destroy(reason);
    this.#onAbort?.(reason);
  }

  /**
   * A reader of the object that follows the fill (no descriptor: the file is still growing, so no
   * sendfile). The caller must `close()` it; the file stays open until the fill and all readers are done.
   */
  reader(): FileReader {
    this.#refs++;
    let closed = false;
    return {
      read: (buf, off, len, pos) => this.#read(buf, off, len, pos),
      close: async () => {
        if (closed) return;
        closed = true;
        await this.release();
      },
    };
  }

  async #read(buf: Buffer, off: number, len: number, pos: number): Promise<number> {
    for (;;) {
      if (pos < this.#visible) {
        const n = Math.min(len, this.#visible - pos);
        return (await this.#file!.read(buf, off, n, pos)).bytesRead;
      }
      if (this.#state === 'done') return 0;
      if (this.#state === 'failed') throw this.#error!;
      await new Promise<void>((resolve) => this.#waiters.add(resolve));
    }
  }

  /** Drops one reference (a reader's, or the fill's own once the DiskCache has placed or dropped the file). */
  async release(): Promise<void> {
    if (--this.#refs > 0) return;
    await this.#file?.close().catch(() => undefined);
  }
}
