/**
 * source-git: serves files of one commit of a git repository (a branch, tag or commit) from a bare
 * mirror, without a checkout. The ref is resolved once per refresh; the commit's tree is a Map.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { definePlugin, type FileHandle, type PluginDefinition, PxeError } from 'pxekit';
import { boundsFor, cachedBody, DiskCache, fromBase, mountedPath, normalizeMount } from 'pxekit/kit';
import { checkSourceGit, isRemoteUrl } from './check.js';
import { catBlob, redact } from './git.js';
import { GitMirror, type Snapshot } from './mirror.js';
import { sourceGitSchema, type SourceGitOptions } from './options.js';

export type { SourceGitOptions } from './options.js';

export interface GitRefreshResult {
  ok: boolean;
  /** The commit being served after this refresh (the previous one when the refresh failed). */
  commit: string | undefined;
  changed: boolean;
  error?: string;
}

export interface SourceGitPlugin extends PluginDefinition<SourceGitOptions> {
  /** Fetch now and switch to the ref's new commit if it moved. Concurrent calls share one run. */
  refresh(): Promise<GitRefreshResult>;
  /** The commit being served (undefined before start). */
  commit(): string | undefined;
}

const LOCAL_TIMEOUT_MS = 30_000;
/** Default bound of the blob cache (`blobCache.maxBytes`). */
export const BLOB_CACHE_DEFAULT_BYTES = 1024 ** 3;
/** The blob cache's folder inside the mirror's folder (git ignores folders it does not know). */
const BLOB_CACHE_SUBDIR = 'pxekit-blobs';

/** The bare mirror's folder: `cacheDir`, else one per repository under the temp folder. */
function cacheDirFor(base: string, o: SourceGitOptions, repo: string): string {
  return (
    fromBase(base, o.cacheDir) ??
    join(tmpdir(), `pxekit-git-${createHash('sha256').update(repo).digest('hex').slice(0, 16)}`)
  );
}

export default function sourceGit(options: Partial<SourceGitOptions> = {}): SourceGitPlugin {
  const pluginName = options.name ?? 'source-git';
  let refreshImpl: (() => Promise<GitRefreshResult>) | undefined;
  let current: Snapshot | undefined;

  const def = definePlugin<SourceGitOptions>({
    name: pluginName,
    options,
    optionsSchema: sourceGitSchema,
    check: (ctx) =>
      checkSourceGit(ctx, (repo) =>
        new GitMirror({
          repo,
          ref: ctx.options.ref,
          subdir: '',
          dir: cacheDirFor(ctx.baseDir, ctx.options, repo),
          networkTimeoutMs: ctx.timeoutMs,
          localTimeoutMs: LOCAL_TIMEOUT_MS,
          signal: ctx.signal,
        }).exists(),
      ),
    apply(server, { options: o, log, name, baseDir: base }) {
      const mount = normalizeMount(o.mount);
      const repo = isRemoteUrl(o.repo) ? o.repo : fromBase(base, o.repo);
      const subdir = o.subdir
        .split('/')
        .filter((s) => s !== '' && s !== '.')
        .join('/');
      if (subdir.split('/').includes('..')) throw new Error('subdir must not contain ..');
      const cacheDir = cacheDirFor(base, o, repo);
      const closing = new AbortController();
      const mirror = new GitMirror({
        repo,
        ref: o.ref,
        subdir,
        dir: cacheDir,
        networkTimeoutMs: o.timeoutSeconds * 1000,
        localTimeoutMs: LOCAL_TIMEOUT_MS,
        signal: closing.signal,
      });
      const shownRepo = redact(repo);
      const blobBytes = o.blobCache?.maxBytes ?? BLOB_CACHE_DEFAULT_BYTES;
      const blobDir = fromBase(base, o.blobCache?.dir) ?? join(cacheDir, BLOB_CACHE_SUBDIR);
      let blobs: DiskCache | undefined;
      let inflight: Promise<GitRefreshResult> | undefined;
      let timer: NodeJS.Timeout | undefined;
      let closed = false;

      /** Resolve the ref in the mirror and switch to its commit when it moved. */
      const adopt = async (): Promise<boolean> => {
        const commit = await mirror.resolveRef();
        if (current?.commit === commit) return false;
        const snap = await mirror.snapshot(commit);
        const previous = current?.commit;
        current = snap;
        log.info(
          { event: 'git.commit', repo: shownRepo, ref: o.ref, commit, previous, files: snap.files.size },
          'serving git commit',
        );
        server.emit({
          type: 'git.commit',
          protocol: 'server',
          outcome: 'info',
          plugin: name,
          data: { repo: shownRepo, ref: o.ref, commit, previous, files: snap.files.size },
        });
        return true;
      };

      const refresh = (): Promise<GitRefreshResult> => {
        inflight ??= (async (): Promise<GitRefreshResult> => {
          try {
            await mirror.fetch();
            const changed = await adopt();
            return { ok: true, commit: current?.commit, changed };
          } catch (err) {
            const error = redact(err instanceof Error ? err.message : String(err));
            if (closing.signal.aborted) return { ok: false, commit: current?.commit, changed: false, error };
            log.warn(
              { event: 'git.refresh.failed', repo: shownRepo, ref: o.ref, commit: current?.commit, reason: error },
              'git refresh failed; still serving the last good commit',
            );
            server.emit({
              type: 'git.refresh.failed',
              protocol: 'server',
              outcome: 'error',
              plugin: name,
              data: { repo: shownRepo, ref: o.ref, commit: current?.commit, reason: error },
            });
            return { ok: false, commit: current?.commit, changed: false, error };
          }
        })().finally(() => {
          inflight = undefined;
        });
        return inflight;
      };
      refreshImpl = refresh;

      server.hooks.ready.tapPromise(name, async () => {
        try {
          if (await mirror.exists()) {
            // A previous mirror: a failed fetch is survivable if the ref resolves in what we have.
            const r = await refresh();
            if (!current) await adopt();
            if (!r.ok)
              log.warn(
                { event: 'git.stale', repo: shownRepo, commit: current?.commit },
                'serving the mirror as it was: the remote could not be fetched',
              );
          } else {
            await mirror.clone();
            await adopt();
          }
        } catch (err) {
          throw new PxeError(
            'PXE_ERR_FILE_SOURCE',
            `${name}: cannot serve ${shownRepo} at "${o.ref}": ${redact(err instanceof Error ? err.message : String(err))}`,
            {
              cause: err,
              fix: 'check the repository URL, that it is reachable without a password prompt, and that ref/subdir exist',
              details: { plugin: name, repo: shownRepo, ref: o.ref, cacheDir },
            },
          );
        }
        if (blobBytes > 0) {
          // After the clone: the mirror's folder must be empty (or a mirror) when it is first made.
          blobs = new DiskCache(blobDir, blobBytes, log);
          await blobs.init();
        }
        log.info(
          {
            event: 'files.mount',
            source: name,
            mount,
            repo: shownRepo,
            ref: o.ref,
            subdir,
            commit: current?.commit,
            cacheDir,
            blobCache: blobs ? { dir: blobDir, maxBytes: blobBytes } : false,
          },
          'git source mounted',
        );
        if (o.refreshSeconds > 0 && !closed) {
          timer = setInterval(() => {
            void refresh();
          }, o.refreshSeconds * 1000);
          timer.unref();
        }
      });

      server.hooks.close.tapPromise(name, async () => {
        closed = true;
        if (timer) clearInterval(timer);
        closing.abort();
        await inflight;
        await blobs?.close();
      });

      server.files.hooks.resolve.tapPromise(name, async (req): Promise<FileHandle | undefined> => {
        const snap = current;
        if (!snap) return undefined;
        const rel = mountedPath(server, log, name, req, mount)?.rel;
        if (rel === undefined) return undefined;
        const entry = snap.files.get(rel);
        if (!entry) return undefined;
        const fetch = async (range?: { start: number; end: number }) =>
          catBlob(
            cacheDir,
            entry.oid,
            range && !(range.start === 0 && range.end === entry.size - 1) ? range : undefined,
          );
        const body: Pick<FileHandle, 'open' | 'openReader'> = blobs
          ? // Blob ids name their content: a cached blob is never stale, whatever commit is served.
            cachedBody({ cache: blobs, key: DiskCache.key('git-blob', entry.oid), size: entry.size, fetch })
          : {
              async open(range) {
                const b = boundsFor(range, entry.size);
                return b ? fetch(b) : Readable.from([]);
              },
            };
        return { path: req.path, size: entry.size, mtime: snap.time, etag: `"${entry.oid}"`, source: name, ...body };
      });
    },
  });

  return Object.assign(def, {
    refresh: () =>
      refreshImpl
        ? refreshImpl()
        : Promise.reject(
            new PxeError('PXE_ERR_SERVER_STATE', `${pluginName}: refresh() before the plugin was applied`),
          ),
    commit: () => current?.commit,
  });
}
