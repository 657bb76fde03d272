/**
 * A FileReader over a local file, for sources that serve files from disk (`FileHandle.openReader`):
 * positional reads into the caller's buffer, the descriptor (HTTP bodies by sendfile(2)), and — when the
 * native addon was built — `readCached`, page-cache reads without a thread-pool round trip
 * (core/native/file-read.ts). A source gets all three from this one call and never touches the addon.
 */
import { read } from 'node:fs';
import { open } from 'node:fs/promises';
import { cachedReadFn } from '../native/file-read.js';
import type { FileReader } from './types.js';

const readCached = cachedReadFn();

/** Opens `path` for reading; the caller bounds reads by the size it announced and calls `close()` once. */
export async function openFileReader(path: string): Promise<FileReader> {
  const fh = await open(path, 'r');
  return fdReader(fh.fd, () => fh.close());
}

/**
 * A reader on an open descriptor that someone else owns (e.g. one shared by several readers,
 * core/files/open-files.ts): `close` is what giving it back means; it runs at most once.
 */
export function fdReader(fd: number, close: () => Promise<void>): FileReader {
  let open = true;
  const reader: FileReader = {
    fd,
    read: (buf, off, len, pos) =>
      new Promise((resolve, reject) => read(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n)))),
    close: () => {
      if (!open) return Promise.resolve();
      open = false;
      return close();
    },
  };
  if (readCached) reader.readCached = (buf, off, len, pos) => readCached(fd, buf, off, len, pos);
  return reader;
}
