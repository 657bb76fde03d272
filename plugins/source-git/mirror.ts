/**
 * A bare mirror of a git repository and the file tree of one commit of it. `sync()` clones or fetches,
 * resolves the ref to a commit and, when it changed, lists that commit's tree once (`git ls-tree -r -l`)
 * into a Map, so a lookup is O(1) and costs no process.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { gitOk, runGit } from './git.js';

export interface TreeEntry {
  oid: string;
  size: number;
}

export interface Snapshot {
  commit: string;
  /** Committer time of the commit: the mtime of every file. */
  time: Date;
  /** Path relative to the sub-folder (`ipxe/boot.ipxe`) → blob. Symlinks and submodules are left out. */
  files: Map<string, TreeEntry>;
}

export interface MirrorOptions {
  repo: string;
  ref: string;
  subdir: string;
  dir: string;
  /** Bound for clone and fetch (network). */
  networkTimeoutMs: number;
  /** Bound for local commands (rev-parse, ls-tree). */
  localTimeoutMs: number;
  /** Aborted when the server closes: running git commands are killed. */
  signal?: AbortSignal;
}

export class GitMirror {
  readonly o: MirrorOptions;
  constructor(o: MirrorOptions) {
    this.o = o;
  }

  #local() {
    return { timeoutMs: this.o.localTimeoutMs, ...(this.o.signal ? { signal: this.o.signal } : {}) };
  }

  #net() {
    return { timeoutMs: this.o.networkTimeoutMs, ...(this.o.signal ? { signal: this.o.signal } : {}) };
  }

  /** True when `dir` holds a bare repository. */
  async exists(): Promise<boolean> {
    const r = await runGit(['--git-dir', this.o.dir, 'rev-parse', '--is-bare-repository'], this.#local());
    return r.code === 0 && r.stdout.toString().trim() === 'true';
  }

  /**
   * First clone: into a temporary sibling, renamed into place only when complete, so an interrupted
   * clone never looks like a mirror. Refuses to touch a non-empty folder that is not a repository.
   */
  async clone(): Promise<void> {
    const entries = await fsp.readdir(this.o.dir).catch(() => undefined);
    if (entries && entries.length > 0) {
      throw new Error(
        `cache folder ${this.o.dir} exists, is not empty and is not a git mirror; remove it or choose another cacheDir`,
      );
    }
    await fsp.mkdir(dirname(this.o.dir), { recursive: true });
    const tmp = `${this.o.dir}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await gitOk(['clone', '--mirror', '--quiet', '--', this.o.repo, tmp], this.#net());
      if (entries) await fsp.rmdir(this.o.dir);
      await fsp.rename(tmp, this.o.dir);
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }

  /** Points the mirror at the configured remote (the option may have changed) and fetches. */
  async fetch(): Promise<void> {
    const g = ['--git-dir', this.o.dir];
    await gitOk([...g, 'remote', 'set-url', 'origin', this.o.repo], this.#local());
    await gitOk([...g, '-c', 'gc.auto=0', 'fetch', '--prune', '--tags', '--quiet', 'origin'], this.#net());
  }

  /** The commit the ref names in the mirror now. */
  async resolveRef(): Promise<string> {
    const r = await runGit(
      ['--git-dir', this.o.dir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${this.o.ref}^{commit}`],
      this.#local(),
    );
    const commit = r.stdout.toString().trim();
    if (r.code !== 0 || !/^[0-9a-f]{40,64}$/.test(commit))
      throw new Error(`ref "${this.o.ref}" does not name a commit in ${this.o.repo}`);
    return commit;
  }

  /** Lists the commit's tree (under `subdir`) into a Map. */
  async snapshot(commit: string): Promise<Snapshot> {
    const g = ['--git-dir', this.o.dir];
    const treeish = this.o.subdir ? `${commit}:${this.o.subdir}` : `${commit}^{tree}`;
    const type = await runGit([...g, 'cat-file', '-t', '--end-of-options', treeish], this.#local());
    if (type.code !== 0 || type.stdout.toString().trim() !== 'tree')
      throw new Error(`subdir "${this.o.subdir}" is not a folder in commit ${commit}`);
    const out = await gitOk([...g, 'ls-tree', '-r', '-l', '-z', '--end-of-options', treeish], {
      ...this.#local(),
      maxStdout: 512 << 20,
    });
    const files = new Map<string, TreeEntry>();
    for (const rec of out.toString('utf8').split('\0')) {
      if (!rec) continue;
      const tab = rec.indexOf('\t');
      const [mode, type2, oid, size] = rec.slice(0, tab).split(/ +/);
      // Regular files only: a symlink's blob is its target text, a submodule (160000) has no blob here.
      if (type2 !== 'blob' || (mode !== '100644' && mode !== '100755') || !oid) continue;
      files.set(rec.slice(tab + 1), { oid, size: Number(size) });
    }
    const ct = (await gitOk([...g, 'show', '-s', '--format=%ct', commit], this.#local())).toString().trim();
    return { commit, time: new Date(Number(ct) * 1000), files };
  }
}
