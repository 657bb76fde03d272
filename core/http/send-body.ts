/**
 * Writes a file body of a known length to an HTTP response, from either kind of source:
 * - positional reads (`FileHandle.openReader`, disk): big reads into a few buffers reused for the whole
 *   response, from the page cache without a thread-pool round trip when the reader offers `readCached`.
 *   A buffer goes back to the pool when the socket has taken it (the write callback), so at
 *   most BUFFERS chunks are in flight per response and nothing is allocated per chunk.
 * - a stream (`FileHandle.open`, S3/git/anything): a plain data/drain pump that counts bytes, instead of
 *   a Transform in a pipeline (one less stream hop per chunk).
 * Either way the body is exactly `length` bytes or the connection is cut: a wrong length on a
 * keep-alive connection would make the client read the next response as body.
 */
import type { HttpResponseLike } from './exchange.js';
import type { Readable } from 'node:stream';
import type { FileReader } from '../files/types.js';
import { canSendByKernel, sendByKernel, type BodyResult } from './send-kernel.js';

export type { BodyResult };

/** A source that yields more or fewer bytes than it announced. */
export class LengthError extends Error {}

/**
 * Read size for big bodies. 64 KiB reads (fs.createReadStream's default) cost a threadpool round
 * trip and a socket write per 64 KiB: 1 GiB over loopback went at ~0.4 GiB/s, with 1 MiB ~1.4 GiB/s
 * (docs/benchmarks.md). Bodies smaller than this get one buffer of their own size.
 */
const LARGE_CHUNK = 1 << 20;
const SMALL_CHUNK = 64 << 10;
/** Two buffers: one being read from disk while the other is being written to the socket. */
const BUFFERS = 2;
/** Large buffers of all responses together stay under this; past it, new responses use SMALL_CHUNK. */
const LARGE_BUDGET = 64 << 20;
let largeInUse = 0;

/** Bytes of large read buffers currently held by responses (for tests). */
export function largeBufferBytesInUse(): number {
  return largeInUse;
}

/** Sends `length` bytes from `start` of `reader` (which this closes). Never throws. */
export async function sendFromReader(
  res: HttpResponseLike,
  reader: FileReader,
  start: number,
  length: number,
): Promise<BodyResult> {
  if (canSendByKernel(res, reader.fd, length)) {
    try {
      const r = await sendByKernel(res, reader.fd!, start, length);
      return r.complete ? await finish(res, r.bytes, length) : r;
    } finally {
      await reader.close().catch(() => undefined);
    }
  }
  let size = Math.min(length, LARGE_CHUNK);
  const count = Math.min(BUFFERS, Math.ceil(length / size));
  const large = size > SMALL_CHUNK;
  if (large && largeInUse + size * count > LARGE_BUDGET) size = SMALL_CHUNK;
  const reserved = size > SMALL_CHUNK ? size * count : 0;
  largeInUse += reserved;
  const pool = new BufferPool(res, size, count);
  let bytes = 0;
  try {
    while (bytes < length) {
      const buf = await pool.acquire();
      if (!buf) return { bytes, complete: false, aborted: true };
      const want = Math.min(size, length - bytes);
      // From the page cache at once when the source can (small bodies: scripts, configs), else the thread pool.
      const cached = reader.readCached ? reader.readCached(buf, 0, want, start + bytes) : -1;
      const n = cached >= 0 ? cached : await reader.read(buf, 0, want, start + bytes);
      if (n <= 0) throw new LengthError(`source yielded ${bytes} of the ${length} bytes it announced`);
      if (res.destroyed) return { bytes, complete: false, aborted: true };
      bytes += n;
      res.write(n === buf.length ? buf : buf.subarray(0, n), () => pool.release(buf));
    }
    return await finish(res, bytes, length);
  } catch (err) {
    return { bytes, complete: false, error: err };
  } finally {
    largeInUse -= reserved;
    await reader.close().catch(() => undefined);
  }
}

/** Pipes `source` into `res`, counting and bounding bytes; destroys the source unless it ended. Never throws. */
export function sendFromStream(res: HttpResponseLike, source: Readable, length: number): Promise<BodyResult> {
  return new Promise<BodyResult>((resolve) => {
    if (source.errored) {
      resolve({ bytes: 0, complete: false, error: source.errored });
      return;
    }
    let bytes = 0;
    let done = false;
    const settle = (r: BodyResult) => {
      if (done) return;
      done = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      res.off('drain', onDrain);
      res.off('close', onClose);
      // A late error from a source we gave up on must not become an uncaught 'error' event.
      source.on('error', () => undefined);
      if (!source.readableEnded) source.destroy();
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > length)
        return settle({
          bytes: bytes - chunk.length,
          complete: false,
          error: new LengthError(`source yielded more than the ${length} bytes it announced`),
        });
      if (!res.write(chunk)) source.pause();
    };
    const onDrain = () => source.resume();
    const onEnd = () => {
      if (bytes !== length)
        return settle({
          bytes,
          complete: false,
          error: new LengthError(`source yielded ${bytes} of the ${length} bytes it announced`),
        });
      res.off('close', onClose);
      void finish(res, bytes, length).then(settle);
    };
    const onError = (err: unknown) => settle({ bytes, complete: false, error: err });
    // All bytes handed over and the client (it had its Content-Length) hung up before the source's end.
    const onClose = () =>
      settle(bytes === length ? { bytes, complete: true } : { bytes, complete: false, aborted: true });
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    res.on('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Ends the response and waits until it is flushed (or the socket closes). */
function finish(res: HttpResponseLike, bytes: number, length: number): Promise<BodyResult> {
  return new Promise<BodyResult>((resolve) => {
    if (res.destroyed) {
      resolve(bytes === length ? { bytes, complete: true } : { bytes, complete: false, aborted: true });
      return;
    }
    const onFinish = () => {
      res.off('close', onClose);
      resolve({ bytes, complete: true });
    };
    // Every body byte was handed over, but a Connection: close client that had its Content-Length hung up
    // before our end() was flushed: that is a complete response, not an abort.
    const onClose = () => {
      res.off('finish', onFinish);
      resolve(bytes === length ? { bytes, complete: true } : { bytes, complete: false, aborted: true });
    };
    res.once('finish', onFinish);
    res.once('close', onClose);
    res.end();
  });
}

/**
 * `count` buffers of `size` bytes, allocated on first use. `acquire()` resolves with a free buffer, or
 * with undefined once the response is closed (a socket that goes away may never call back a write).
 */
class BufferPool {
  readonly #free: Buffer[] = [];
  #allocated = 0;
  #waiter: ((b: Buffer | undefined) => void) | undefined;
  #closed = false;

  constructor(
    res: HttpResponseLike,
    readonly size: number,
    readonly count: number,
  ) {
    res.once('close', () => {
      this.#closed = true;
      this.#waiter?.(undefined);
      this.#waiter = undefined;
    });
  }

  acquire(): Promise<Buffer | undefined> | Buffer | undefined {
    if (this.#closed) return undefined;
    const b = this.#free.pop();
    if (b) return b;
    if (this.#allocated < this.count) {
      this.#allocated++;
      // Uninitialised is safe: only the bytes a read filled are ever written out.
      return Buffer.allocUnsafeSlow(this.size);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  release(b: Buffer): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w) w(b);
    else this.#free.push(b);
  }
}
