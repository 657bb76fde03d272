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
  /**
   * Optional fast path for block protocols (TFTP): positional reads into the caller's own buffer, so a
   * transfer reuses one buffer instead of getting a new stream chunk per read. Callers that find it
   * absent use `open()`; sources that cannot seek cheaply (S3, git) leave it out.
   */
  openReader?(): Promise<FileReader>;
}

/** Random access to one opened file (see `FileHandle.openReader`). */
export interface FileReader {
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`; resolves with the count (0 = end). */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /**
   * Optional synchronous read that only completes from memory (the page cache, a source's own cache):
   * the byte count (0 = end), or -1 when it would have to wait, and `read` must be used. Never blocks.
   */
  readCached?(buffer: Buffer, offset: number, length: number, position: number): number;
  /**
   * Optional OS file descriptor of the opened file (disk sources): lets the HTTP server send a big body
   * with sendfile(2), without copying it through user space. Valid until `close()`.
   */
  readonly fd?: number;
  /** Releases the file; called exactly once by the reader's user. */
  close(): Promise<void>;
}
