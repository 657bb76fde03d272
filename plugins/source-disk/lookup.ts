/**
 * Finds a file under a disk root: optional case-insensitive segment matching (trees made on Windows),
 * then a realpath check so that no symlink, however deep, leads outside the root (unless the operator
 * chose `followSymlinks: 'any'`).
 */
import { promises as fsp, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { LruMap } from 'pxekit/kit';

export type LookupResult =
  | {
      found: true;
      realPath: string;
      /** The path as requested under the root (symlinks unresolved). */ lexicalPath: string;
      stat: Stats;
    }
  | { found: false; denied?: string };

/**
 * Which symlinks a lookup follows: `inside` (those whose target stays inside the root), `any` (wherever
 * they lead: the operator vouches for every link in the tree), `none` (no symlink at all).
 */
export type FollowSymlinks = 'inside' | 'any' | 'none';

export interface DiskLookupOptions {
  /** Real (symlink-free) absolute path of the root. */
  rootReal: string;
  caseInsensitive: boolean;
  followSymlinks: FollowSymlinks;
}

/** How long a directory listing is trusted for case-insensitive lookups, and how many are kept. */
const DIR_CACHE_TTL_MS = 10_000;
const DIR_CACHE_MAX = 512;
/** A directory with more entries than this is not cached (its listing would cost too much memory). */
const DIR_CACHE_MAX_ENTRIES = 20_000;

export class DiskLookup {
  readonly #o: DiskLookupOptions;
  /** Per directory: lowercase name → the name on disk (first one wins if two differ only by case). */
  readonly #dirs = new LruMap<string, Map<string, string>>(DIR_CACHE_MAX, DIR_CACHE_TTL_MS);

  /**
   * Lookups running now, by path: in a boot storm hundreds of machines ask for the same boot file within
   * milliseconds, and they share one realpath + stat instead of queueing hundreds on the thread pool
   * (where, on a saturated machine, some waited past the hook timeout). Nothing is kept once it settles.
   */
  readonly #inFlight = new Map<string, Promise<LookupResult>>();

  constructor(o: DiskLookupOptions) {
    this.#o = o;
  }

  find(segments: readonly string[]): Promise<LookupResult> {
    const key = segments.join('/');
    let p = this.#inFlight.get(key);
    if (p === undefined) {
      p = this.#find(segments).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, p);
    }
    return p;
  }

  async #find(segments: readonly string[]): Promise<LookupResult> {
    const { rootReal } = this.#o;
    let lexical = rootReal;
    for (const seg of segments) {
      const name = this.#o.caseInsensitive ? await this.#matchCase(lexical, seg) : seg;
      if (name === undefined) return { found: false };
      lexical = join(lexical, name);
    }
    let real: string;
    try {
      real = await fsp.realpath(lexical);
    } catch {
      return { found: false };
    }
    // The segments are safe (no `..`), so only a symlink on the way can make the real path leave the root.
    const { followSymlinks } = this.#o;
    if (
      followSymlinks !== 'any' &&
      real !== rootReal &&
      !real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep)
    ) {
      return { found: false, denied: 'resolves outside the root (symlink; followSymlinks: any would allow it)' };
    }
    // A symlink anywhere on the way makes the real path differ from the one we built.
    if (followSymlinks === 'none' && real !== lexical)
      return { found: false, denied: 'symlink (followSymlinks is none)' };
    let stat: Stats;
    try {
      stat = await fsp.stat(real);
    } catch {
      return { found: false };
    }
    if (!stat.isFile()) return { found: false };
    return { found: true, realPath: real, lexicalPath: lexical, stat };
  }

  /** The on-disk spelling of `seg` inside `dir`: exact match first, then case-insensitive. */
  async #matchCase(dir: string, seg: string): Promise<string | undefined> {
    try {
      await fsp.lstat(join(dir, seg));
      return seg;
    } catch {
      // fall through to the listing
    }
    let names = this.#dirs.get(dir);
    if (!names) {
      let entries: string[];
      try {
        entries = await fsp.readdir(dir);
      } catch {
        return undefined;
      }
      names = new Map();
      for (const e of entries) {
        const k = e.toLowerCase();
        if (!names.has(k)) names.set(k, e);
      }
      if (entries.length <= DIR_CACHE_MAX_ENTRIES) this.#dirs.set(dir, names);
    }
    return names.get(seg.toLowerCase());
  }
}
