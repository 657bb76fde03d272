/** Test-only file source: serves a directory through `FileHandle`s (the real disk source lives elsewhere). */
import { createReadStream, promises as fsp, statSync } from 'node:fs';
import { join } from 'node:path';
import { cachedReadFn } from '../../core/native/file-read.js';
import type { FileHandle } from '../../core/files/types.js';

/** `positional` (default true) adds `openReader`, as the disk source has; false = streams only. */
export function dirResolver(
  root: string,
  /** positional: false → stream only. native: the reader also offers its descriptor and page-cache reads
   * (as source-disk's does), so transfers over the native socket run the chain. */
  opts: { positional?: boolean; native?: boolean } = {},
): (path: string) => Promise<FileHandle | undefined> {
  return async (path) => {
    // `path` is already a normalised virtual path (no '..'), so joining cannot leave `root`.
    const full = join(root, path);
    let st;
    try {
      st = statSync(full);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    return {
      path,
      size: st.size,
      mtime: st.mtime,
      source: 'test-dir',
      open: async (range) => createReadStream(full, range ? { start: range.start, end: range.end } : {}),
      ...(opts.positional === false
        ? {}
        : {
            openReader: async () => {
              const fh = await fsp.open(full, 'r');
              const cached = opts.native ? cachedReadFn() : undefined;
              return {
                read: async (buf: Buffer, off: number, len: number, pos: number) =>
                  (await fh.read(buf, off, len, pos)).bytesRead,
                close: () => fh.close(),
                ...(cached
                  ? {
                      fd: fh.fd,
                      readCached: (buf: Buffer, off: number, len: number, pos: number) =>
                        cached(fh.fd, buf, off, len, pos),
                    }
                  : {}),
              };
            },
          }),
    };
  };
}
