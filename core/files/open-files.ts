/**
 * Open files kept for the next request, like nginx's open_file_cache: a boot storm asks for the same few
 * files thousands of times, and opening, stat-ing and closing each one per request costs four thread-pool
 * round trips (each a cross-thread wake-up on a busy machine) for a file that did not change.
 *
 * - An entry holds one descriptor and its fstat; readers share the descriptor (positional reads and
 *   sendfile(2) with an offset never move the file position), each counted until its `close()`.
 * - Every use re-checks the file on disk: a stat of the path the request names (following symlinks, so a
 *   link swapped anywhere on the way is seen) must give the same device, inode, size, mtime and ctime.
 *   Anything else drops the entry and the caller looks the file up again: a file replaced on disk is
 *   served new from the next request on. The check is a synchronous stat on the event loop (a few µs
 *   against a local disk's cache, as nginx and dnsmasq do), or one through the thread pool for network
 *   file systems (`syncStat: false`), where a stat can wait a network round trip.
 * - A response reads one descriptor from start to end: a file replaced by rename (the atomic way) while it
 *   is being sent is sent whole in its old version; never a mix of both. (A file rewritten in place is
 *   mixed by any server: its one inode changes under every reader.)
 * - Bounded: at most `max` unused entries stay open (least recently used closed first); an entry unused
 *   for `idleMs` is closed; entries being read stay open until their last reader closes. `close()` shuts all.
 */
import { close as closeFd, fstat, open as openFd, statSync, type Stats } from 'node:fs';
import { stat as statAsync } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fdReader } from './file-reader.js';
import type { FileReader } from './types.js';

const fstatP = promisify(fstat);
const openP = promisify(openFd);
const closeP = promisify(closeFd);

export interface OpenFileCacheOptions {
  /** Most unused files kept open (0: none; every request opens its own, as without a cache). */
  max: number;
  /** An entry unused this long is closed. */
  idleMs: number;
  /** Re-check with a synchronous stat (local disks) instead of one through the thread pool (network file systems). */
  syncStat: boolean;
}

/** One opened file, as handed to a request. */
export interface OpenFile {
  /** The path that was opened (a real path for disk sources). */
  readonly path: string;
  /** fstat of the descriptor: size, mtime and the identity the next request is checked against. */
  readonly stat: Stats;
  /**
   * A reader on the held descriptor (close it once). If the entry was closed in the meantime (idle,
   * evicted, dropped), the path is opened again and must still be this same file, else this rejects.
   */
  reader(): Promise<FileReader>;
}

class Entry implements OpenFile {
  refs = 0;
  /** Still in the cache's map (an entry dropped while read closes when its last reader closes). */
  cached = true;
  closed = false;
  lastUsed = 0;

  constructor(
    readonly cache: OpenFileCache,
    readonly fd: number,
    readonly path: string,
    readonly checkPath: string,
    readonly stat: Stats,
  ) {}

  reader(): Promise<FileReader> {
    if (this.closed) return reopen(this.path, this.stat);
    this.refs++;
    return Promise.resolve(sharedReader(this));
  }
}

/** Same file, same content as far as stat can tell. */
function sameFile(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

function sharedReader(e: Entry): FileReader {
  return fdReader(e.fd, () => {
    e.cache.release(e);
    return Promise.resolve();
  });
}

/** A reader of its own on `path`, which must still be the file described by `want`. */
async function reopen(path: string, want: Stats): Promise<FileReader> {
  const fd = await openP(path, 'r');
  const reader = fdReader(fd, () => closeP(fd));
  let st: Stats;
  try {
    st = await fstatP(fd);
  } catch (err) {
    await reader.close().catch(() => undefined);
    throw err;
  }
  if (!sameFile(st, want)) {
    await reader.close().catch(() => undefined);
    throw new Error(`${path} changed on disk after its size was announced; the request must be retried`);
  }
  return reader;
}

export class OpenFileCache {
  readonly #o: OpenFileCacheOptions;
  /** Insertion order is use order: the first entry is the least recently used. */
  readonly #map = new Map<string, Entry>();
  readonly #opening = new Map<string, Promise<OpenFile | undefined>>();
  #sweep: NodeJS.Timeout | undefined;
  #shut = false;

  constructor(o: OpenFileCacheOptions) {
    this.#o = o;
  }

  /** Entries in the cache (tests, metrics). */
  get size(): number {
    return this.#map.size;
  }

  /**
   * The entry under `key` if the file at its check path is still the one held open; a changed or vanished
   * file drops the entry and answers undefined (the caller looks the file up again and calls `open`).
   */
  get(key: string): OpenFile | undefined | Promise<OpenFile | undefined> {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (this.#o.syncStat) {
      let now: Stats | undefined;
      try {
        now = statSync(e.checkPath, { throwIfNoEntry: false });
      } catch {
        now = undefined;
      }
      return this.#checked(key, e, now);
    }
    return statAsync(e.checkPath).then(
      (now) => this.#checked(key, e, now),
      () => this.#checked(key, e, undefined),
    );
  }

  #checked(key: string, e: Entry, now: Stats | undefined): OpenFile | undefined {
    if (this.#map.get(key) !== e) return undefined; // dropped while an async stat ran
    if (now === undefined || !sameFile(now, e.stat)) {
      this.#drop(key, e);
      return undefined;
    }
    e.lastUsed = performance.now();
    this.#map.delete(key);
    this.#map.set(key, e);
    return e;
  }

  /**
   * Opens `path` (found by the caller's lookup, e.g. a checked real path) and keeps it under `key`;
   * `checkPath` is what later requests stat (the path as requested, so a symlink swapped on the way is
   * seen). Undefined when it is not a regular file or vanished. Concurrent opens of one key share one.
   */
  open(key: string, path: string, checkPath: string): Promise<OpenFile | undefined> {
    let p = this.#opening.get(key);
    if (p === undefined) {
      p = this.#open(key, path, checkPath).finally(() => this.#opening.delete(key));
      this.#opening.set(key, p);
    }
    return p;
  }

  async #open(key: string, path: string, checkPath: string): Promise<OpenFile | undefined> {
    let fd: number;
    try {
      fd = await openP(path, 'r');
    } catch {
      return undefined;
    }
    let st: Stats;
    try {
      st = await fstatP(fd);
    } catch {
      await closeP(fd).catch(() => undefined);
      return undefined;
    }
    if (!st.isFile()) {
      await closeP(fd).catch(() => undefined);
      return undefined;
    }
    const e = new Entry(this, fd, path, checkPath, st);
    e.lastUsed = performance.now();
    if (this.#shut || this.#o.max <= 0) {
      e.cached = false;
      this.#closeLater(e);
      return e;
    }
    const old = this.#map.get(key);
    if (old) this.#drop(key, old);
    this.#map.set(key, e);
    this.#evict();
    this.#arm();
    return e;
  }

  /** Drops the entry under `key` (its file is gone): closed now, or when its last reader closes. */
  forget(key: string): void {
    const e = this.#map.get(key);
    if (e) this.#drop(key, e);
  }

  /** A reader's close: the last one of a dropped entry closes the descriptor. */
  release(e: Entry): void {
    e.refs--;
    e.lastUsed = performance.now();
    if (e.refs === 0 && !e.cached) this.#closeFd(e);
  }

  /** Closes every descriptor not being read now, and the rest as their readers finish. */
  async close(): Promise<void> {
    this.#shut = true;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    await Promise.allSettled([...this.#opening.values()]);
    for (const [key, e] of [...this.#map]) this.#drop(key, e);
  }

  #drop(key: string, e: Entry): void {
    if (this.#map.get(key) === e) this.#map.delete(key);
    e.cached = false;
    if (e.refs === 0) this.#closeFd(e);
  }

  #closeFd(e: Entry): void {
    if (e.closed) return;
    e.closed = true;
    closeFd(e.fd, () => undefined);
  }

  /**
   * An entry that is not kept: its descriptor stays usable for the request that is about to read it,
   * and is closed once nobody read it within `idleMs` (or when its reader closes).
   */
  #closeLater(e: Entry): void {
    const t = setTimeout(() => {
      if (e.refs === 0) this.#closeFd(e);
    }, this.#o.idleMs);
    t.unref();
  }

  /** Least recently used unused entries go first while more than `max` are kept. */
  #evict(): void {
    if (this.#map.size <= this.#o.max) return;
    for (const [key, e] of this.#map) {
      if (this.#map.size <= this.#o.max) break;
      if (e.refs === 0) this.#drop(key, e);
    }
  }

  #arm(): void {
    if (this.#sweep) return;
    const every = Math.max(50, Math.min(this.#o.idleMs / 2, 5_000));
    this.#sweep = setInterval(() => this.#sweepIdle(), every);
    this.#sweep.unref();
  }

  #sweepIdle(): void {
    const before = performance.now() - this.#o.idleMs;
    for (const [key, e] of this.#map) if (e.refs === 0 && e.lastUsed <= before) this.#drop(key, e);
    if (this.#map.size === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}
