/**
 * A bounded on-disk cache of whole files for remote sources (S3): entries are keyed by a content
 * identity (bucket + key + ETag, hashed), evicted least-recently-used once their total size passes
 * `maxBytes`. A file is written under a temporary name and renamed only once complete and of the expected
 * size, so a partial download is never served.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { glob } from 'glob';
import type { Logger } from 'pino';

export interface CacheEntry {
  path: string;
  size: number;
}

export interface CacheWriter {
  /** Write the file's bytes here; end it when the source ends. */
  stream: WriteStream;
  /** After `stream` finished: keep the file if it has exactly the expected size. */
  commit(): Promise<boolean>;
  /** Drop the partial file (source failed or reader went away). */
  abort(): void;
}

const TMP_MARK = '.tmp-';

export class DiskCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #log: Logger;
  /** Insertion order = least recently used first. */
  readonly #entries = new Map<string, number>();
  readonly #writing = new Set<string>();
  #total = 0;

  constructor(dir: string, maxBytes: number, log: Logger) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.#log = log;
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
    // Persist the use for the next start's ordering; best effort.
    const now = new Date();
    fsp.utimes(join(this.dir, key), now, now).catch(() => undefined);
    return { path: join(this.dir, key), size };
  }

  /** A writer for `key`, or undefined when the file cannot fit or is being written already. */
  reserve(key: string, size: number): CacheWriter | undefined {
    if (size > this.maxBytes || this.#writing.has(key) || this.#entries.has(key)) return undefined;
    this.#writing.add(key);
    const tmp = join(this.dir, `${key}${TMP_MARK}${randomBytes(6).toString('hex')}`);
    const stream = createWriteStream(tmp, { flags: 'wx' });
    let done = false;
    const finish = () => {
      done = true;
      this.#writing.delete(key);
    };
    stream.on('error', (err) => {
      this.#log.warn({ event: 'files.cache.error', err, key }, 'cache write failed');
      if (!done) {
        finish();
        fsp.rm(tmp, { force: true }).catch(() => undefined);
      }
    });
    return {
      stream,
      commit: async () => {
        if (done) return false;
        finish();
        const written = stream.bytesWritten;
        if (written !== size) {
          await fsp.rm(tmp, { force: true }).catch(() => undefined);
          return false;
        }
        try {
          await fsp.rename(tmp, join(this.dir, key));
        } catch (err) {
          this.#log.warn({ event: 'files.cache.error', err, key }, 'cache rename failed');
          await fsp.rm(tmp, { force: true }).catch(() => undefined);
          return false;
        }
        this.#add(key, size);
        await this.#evict();
        return true;
      },
      abort: () => {
        if (done) return;
        finish();
        stream.destroy();
        fsp.rm(tmp, { force: true }).catch(() => undefined);
      },
    };
  }

  #add(key: string, size: number): void {
    const prev = this.#entries.get(key);
    if (prev !== undefined) this.#total -= prev;
    this.#entries.delete(key);
    this.#entries.set(key, size);
    this.#total += size;
  }

  /** Unlinks least recently used files until the total fits (a reader with the file open keeps its copy). */
  async #evict(): Promise<void> {
    while (this.#total > this.maxBytes) {
      const oldest = this.#entries.entries().next();
      if (oldest.done) break;
      const [key, size] = oldest.value;
      this.#entries.delete(key);
      this.#total -= size;
      await fsp.rm(join(this.dir, key), { force: true }).catch(() => undefined);
      this.#log.debug({ event: 'files.cache.evict', key, size }, 'cache entry evicted');
    }
  }
}
