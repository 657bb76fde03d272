import type { Readable } from 'node:stream';

/** An inclusive byte range, as HTTP Range and range-parser express it. */
export interface ByteRange {
  start: number;
  /** Inclusive last byte. */
  end: number;
}

/**
 * A file found by a source. `size` is known before the first byte is read, because TFTP needs it for
 * `tsize` and HTTP for `Content-Length`.
 */
export interface FileHandle {
  /** Normalised virtual path, always starting with `/` (e.g. `/ipxe/undionly.kpxe`). */
  path: string;
  size: number;
  mtime?: Date;
  /** Strong validator, quoted as HTTP wants it (e.g. `"5f2a-1700000000"`). */
  etag?: string;
  /** Name of the source plugin that answered (for logs, audit and `explain`). */
  source: string;
  /** A fresh stream of the whole file or of one inclusive range. The caller destroys it when done. */
  open(range?: ByteRange): Promise<Readable>;
}
