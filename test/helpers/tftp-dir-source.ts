/** Test-only file source: serves a directory through `FileHandle`s (the real disk source lives elsewhere). */
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileHandle } from '../../core/files/types.js';

export function dirResolver(root: string): (path: string) => Promise<FileHandle | undefined> {
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
      open: async (range) =>
        createReadStream(full, range ? { start: range.start, end: range.end } : {}),
    };
  };
}
