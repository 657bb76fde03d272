/** Byte-range helpers shared by the sources (ranges are inclusive, as HTTP and range-parser give them). */
import { Transform, type TransformCallback } from 'node:stream';
import { PxeError } from '../../errors.js';
import type { ByteRange } from '../types.js';

/**
 * Checks a requested range against the file size and returns the inclusive bounds to read
 * (the whole file when no range is given). `end` past the last byte is clamped, as HTTP does;
 * a start beyond the end of the file, or a reversed range, is an error (the caller asked for nothing).
 * Returns undefined for a whole read of an empty file.
 */
export function boundsFor(range: ByteRange | undefined, size: number): ByteRange | undefined {
  if (!range) return size > 0 ? { start: 0, end: size - 1 } : undefined;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || start >= size) {
    throw new PxeError('PXE_ERR_FILE_SOURCE', `unsatisfiable byte range ${start}-${end} for a file of ${size} bytes`, {
      details: { range, size },
    });
  }
  return { start, end: Math.min(end, size - 1) };
}

/**
 * Passes on bytes `start`..`end` (inclusive) of what flows through it, then ends; for sources that can
 * only stream from the first byte (git). Upstream should be destroyed by the caller once this ends.
 */
export class SliceStream extends Transform {
  #pos = 0;
  readonly #start: number;
  readonly #end: number;
  constructor(range: ByteRange) {
    super();
    this.#start = range.start;
    this.#end = range.end;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const chunkStart = this.#pos;
    this.#pos += chunk.length;
    if (this.#pos <= this.#start || chunkStart > this.#end) return cb();
    const from = Math.max(0, this.#start - chunkStart);
    const to = Math.min(chunk.length, this.#end - chunkStart + 1);
    this.push(chunk.subarray(from, to));
    if (this.#pos > this.#end) this.push(null);
    cb();
  }
}
