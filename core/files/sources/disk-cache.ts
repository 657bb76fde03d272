/**
 * A bounded on-disk cache of whole files for remote sources (S3, git blobs): entries are keyed by a content
 * identity (e.g. bucket + key + ETag, or a blob id, hashed), evicted least-recently-used once their total
 * size passes `maxBytes`. Filling is single-flight: concurrent first requests for one object share one fetch
 * (`fill`), written under a temporary name that readers follow while it grows (cache-fill.ts), and renamed
 * into place only once complete and of the expected size, so a partial download is never served as whole.
 * A failed fill is dropped at once: the next request starts a new one.
 * Cached files are kept open between requests (an OpenFileCache, as source-disk does): a boot storm asks for
 * the same kernel thousands of times, and an open + fstat + close per request is three thread-pool round
 * trips for a file that cannot change (its name is its content's key).
 */
import { randomBytes, createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { glob } from 'glob';
import type { Logger } from 'pino';
import { OpenFileCache, type OpenFile } from '../open-files.js';
import type { FileReader } from '../types.js';
import { CacheFill } from './cache-fill.js';

export { CacheFill };

export interface CacheEntry {
  path: string;
  size: number;
}

/** Default for `fill`'s `idleMs`: a store body silent this long fails the fill. */
const FILL_IDLE_MS = 30_000;
const TMP_MARK = '.tmp-';
/** A hit's use is written to the file's mtime (the next start's LRU order) at most this often. */
const TOUCH_EVERY_MS = 60_000;

export interface DiskCacheOptions {
  /** Most unused cached files kept open between requests (default 64; 0: open per request). */
  openFiles?: number;
  /** A kept file unused this long is closed (default 10 s). */
  openFilesIdleMs?: number;
}

export class DiskCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #log: Logger;
  /** Insertion order = least recently used first. */
  readonly #entries = new Map<string, number>();
  /** Fills under way, by key (single flight). */
  readonly #fills = new Map<string, CacheFill>();
  /** Bytes of the fills under way: eviction makes room for them before they land. */
  #reserved = 0;
  #total = 0;
  #closed = false;
  /** Cached files held open for the next request, by key. */
  readonly #files: OpenFileCache;
  /** When each entry's use was last written to its mtime (performance.now()). */
  readonly #touched = new Map<string, number>();

  constructor(dir: string, maxBytes: number, log: Logger, o: DiskCacheOptions = {}) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.#log = log;
    this.#files = new OpenFileCache({ max: o.openFiles ?? 64, idleMs: o.openFilesIdleMs ?? 10_000, syncStat: true });
  }

  /** A stable cache key for one version of one object. */
  static key(...parts: string[]): string {
    return createHash('sha256').update(parts.join('\0')).digest('hex');
  }

  get totalBytes(): number {
    return this.#total;
  }

  /** Creates the folder, drops leftovers of interrupted writes, and indexes what is there (oldest first). */
  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    // Leftovers of interrupted writes (`<key>.tmp-<random>`) go; cached files are named by their sha256 key.
    for (const tmp of await glob(`*${TMP_MARK}*`, { cwd: this.dir, dot: true, absolute: true }))
      await fsp.rm(tmp, { force: true });
    const found: Array<{ name: string; size: number; atime: number }> = [];
    for (const f of await glob(`${'[0-9a-f]'.repeat(64)}`, { cwd: this.dir, stat: true, withFileTypes: true }))
      if (f.isFile()) found.push({ name: f.name, size: f.size ?? 0, atime: f.mtimeMs ?? 0 });
    found.sort((a, b) => a.atime - b.atime);
    for (const f of found) this.#add(f.name, f.size);
    await this.#evict();
  }

  /** The cached file for `key` if present with `size` bytes; marks it recently used. */
  lookup(key: string, size: number): CacheEntry | undefined {
    const have = this.#entries.get(key);
    if (have === undefined || have !== size) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, have);
    // Persist the use for the next start's ordering (best effort, at most once a minute per file).
    const t = performance.now();
    const last = this.#touched.get(key);
    if (last === undefined || t - last >= TOUCH_EVERY_MS) {
      this.#touched.set(key, t);
      const now = new Date();
      fsp.utimes(join(this.dir, key), now, now).catch(() => undefined);
    }
    return { path: join(this.dir, key), size };
  }

  /** Whether `key` is cached complete with `size` bytes (does not count as a use). */
  has(key: string, size: number): boolean {
    return this.#entries.get(key) === size;
  }

  /**
   * The cached file for `key` opened as a FileReader (with its descriptor, for sendfile), marked recently
   * used; undefined when it is not cached (or was evicted just now).
   */
  async openFile(key: string, size: number): Promise<FileReader | undefined> {
    const hit = this.lookup(key, size);
    if (!hit) return undefined;
    // A kept descriptor is re-checked with a stat of the path (an evicted or removed file drops it).
    const kept: OpenFile | undefined =
      (await this.#files.get(key)) ?? (await this.#files.open(key, hit.path, hit.path));
    const reader = kept?.stat.size === size ? await kept.reader().catch(() => undefined) : undefined;
    if (reader) return reader;
    // Removed behind our back (or evicted between lookup and open): forget it.
    this.#files.forget(key);
    if (this.#entries.get(key) === size) {
      this.#entries.delete(key);
      this.#touched.delete(key);
      this.#total -= size;
    }
    return undefined;
  }

  /**
   * The fill of `key` under way, or a new one that fetches the whole object with `fetch` (single flight:
   * concurrent callers share it). Undefined when the object can never fit (`size > maxBytes`) or the cache
   * is closed. `idleMs`: a body that delivers nothing for this long fails the fill.
   */
  fill(key: string, size: number, fetch: () => Promise<Readable>, idleMs = FILL_IDLE_MS): CacheFill | undefined {
    const running = this.#fills.get(key);
    if (running) return running;
    if (size > this.maxBytes || this.#closed) return undefined;
    const tmp = join(this.dir, `${key}${TMP_MARK}${randomBytes(6).toString('hex')}`);
    // Placed (renamed and indexed) before its readers get the last bytes: the next request finds the file.
    const fill = new CacheFill(tmp, size, fetch, idleMs, async () => {
      await fsp.rename(tmp, join(this.dir, key));
      this.#reserved -= size;
      this.#add(key, size);
    });
    this.#fills.set(key, fill);
    this.#log.info({ event: 'files.cache.fill', key, size, dir: this.dir }, 'fetching an object into the cache');
    this.#reserved += size;
    void this.#evict();
    void this.#land(key, fill);
    return fill;
  }

  /** Fills under way (for tests and metrics). */
  get filling(): number {
    return this.#fills.size;
  }

  /** Once the fill ends (placed by its `place` callback when complete): drop a failed one. */
  async #land(key: string, fill: CacheFill): Promise<void> {
    let failed = false;
    try {
      await fill.written;
    } catch (err) {
      failed = true;
      if (!this.#closed)
        this.#log.warn(
          {
            event: 'files.cache.fill.failed',
            key,
            size: fill.size,
            reason: err instanceof Error ? err.message : String(err),
          },
          'cache fill failed; the next request fetches again',
        );
      await fsp.rm(fill.tmpPath, { force: true }).catch(() => undefined);
    } finally {
      if (failed) this.#reserved -= fill.size;
      // Only now: until the file is in place (or known failed) a new request must join this fill.
      this.#fills.delete(key);
      await fill.release();
      await this.#evict();
    }
  }

  /** Cancels the fills under way (server closing) and waits until their files are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    const fills = [...this.#fills.values()];
    for (const f of fills) f.abort();
    await Promise.all(fills.map((f) => f.written.catch(() => undefined)));
    for (let i = 0; i < 100 && this.#fills.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await this.#files.close();
  }

  #add(key: string, size: number): void {
    const prev = this.#entries.get(key);
    if (prev !== undefined) this.#total -= prev;
    this.#entries.delete(key);
    this.#entries.set(key, size);
    this.#total += size;
  }

  /**
   * Unlinks least recently used files until the total, with the fills under way, fits (a reader with the
   * file open keeps its copy). Fills themselves are never evicted, so the folder can exceed `maxBytes`
   * by the objects being fetched at that moment when they alone do not fit.
   */
  async #evict(): Promise<void> {
    while (this.#total + this.#reserved > this.maxBytes) {
      const oldest = this.#entries.entries().next();
      if (oldest.done) break;
      const [key, size] = oldest.value;
      this.#entries.delete(key);
      this.#touched.delete(key);
      this.#files.forget(key); // closed now, or when its last reader finishes
      this.#total -= size;
      await fsp.rm(join(this.dir, key), { force: true }).catch(() => undefined);
      this.#log.debug({ event: 'files.cache.evict', key, size }, 'cache entry evicted');
    }
  }
}
