/**
 * The body of a remote object (S3, git blob) behind a DiskCache, as the `open`/`openReader` pair of a
 * FileHandle: once the object is cached, a FileReader over the cache file (its descriptor lets HTTP send
 * it with sendfile(2), ranges too) — the same fast path as a disk file; before that, every request for it
 * joins one fetch into the cache (single flight) and streams the bytes as they land.
 */
import { Readable } from 'node:stream';
import { PxeError } from '../../errors.js';
import type { ByteRange, FileHandle, FileReader } from '../types.js';
import type { DiskCache } from './disk-cache.js';
import { boundsFor } from './range.js';

/** A range that starts this far past what the fill has written is fetched on its own instead of waiting. */
const WAIT_AHEAD_BYTES = 16 << 20;
/** Read size of a stream over a reader (bounded memory per client: one chunk plus the stream's buffer). */
const STREAM_CHUNK = 256 << 10;

export interface CachedBodyOptions {
  cache: DiskCache;
  /** The object's cache key (`DiskCache.key(...)` of an identity that changes with the content). */
  key: string;
  size: number;
  /** The object from its store: the whole object (no range), or one inclusive range of it. */
  fetch(range?: ByteRange): Promise<Readable>;
  /** A store body that delivers nothing for this long fails the fill (default 30 s). */
  idleMs?: number;
}

/**
 * `open` and, when the object is already cached, `openReader` for the FileHandle of a cached object.
 * Whole reads and ranges near the fill's progress follow the fill; a range far ahead of it is fetched
 * directly (the fill goes on). Objects larger than the cache are always fetched directly.
 */
export function cachedBody(o: CachedBodyOptions): Pick<FileHandle, 'open' | 'openReader'> {
  const { cache, key, size } = o;
  const startFill = () => cache.fill(key, size, () => o.fetch(), o.idleMs);

  const open = async (range?: ByteRange): Promise<Readable> => {
    const b = boundsFor(range, size);
    if (!b) return Readable.from([]);
    const file = await cache.openFile(key, size);
    if (file) return readerStream(file, b);
    const fill = startFill();
    if (!fill) return o.fetch(range ? b : undefined);
    if (b.start > fill.bytesWritten + WAIT_AHEAD_BYTES) return o.fetch(b);
    await fill.started;
    return readerStream(fill.reader(), b);
  };

  if (!cache.has(key, size)) return { open };
  return {
    open,
    openReader: async (): Promise<FileReader> => {
      const file = await cache.openFile(key, size);
      if (file) return file;
      // Evicted since the lookup: fetch it again (and follow that fill).
      const fill = startFill();
      if (!fill) throw new PxeError('PXE_ERR_FILE_SOURCE', 'the cached object is gone and the cache is closed');
      await fill.started;
      return fill.reader();
    },
  };
}

/**
 * A stream of bytes `b.start`..`b.end` of `reader`, read in STREAM_CHUNK pieces; closes the reader when it
 * ends or is destroyed. A reader that ends early is an error (the source announced more).
 */
export function readerStream(reader: FileReader, b: ByteRange): Readable {
  let pos = b.start;
  const end = b.end + 1;
  return new Readable({
    highWaterMark: STREAM_CHUNK,
    read(this: Readable) {
      if (pos >= end) {
        this.push(null);
        return;
      }
      const buf = Buffer.allocUnsafe(Math.min(STREAM_CHUNK, end - pos));
      reader.read(buf, 0, buf.length, pos).then(
        (n) => {
          if (this.destroyed) return;
          if (n <= 0) {
            this.destroy(new PxeError('PXE_ERR_FILE_SOURCE', `file ended at byte ${pos}, before ${end}`));
            return;
          }
          pos += n;
          this.push(n === buf.length ? buf : buf.subarray(0, n));
        },
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
    destroy(err, cb) {
      reader.close().then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
}
