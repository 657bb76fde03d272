/**
 * source-disk: serves a folder of the boot server under a mount prefix of the virtual tree.
 * A file is looked up (realpath + stat, symlinks checked) and opened once, then kept open for the next
 * requests while a stat per request shows it unchanged (OpenFileCache, `openFiles`); with `openFiles: 0`
 * every request looks up and opens its own.
 */
import { constants as fsConstants, promises as fsp, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { Minimatch } from 'minimatch';
import { definePlugin, type FileHandle, type FileReader, PxeError } from 'pxekit';
import {
  boundsFor,
  fromBase,
  mountedPath,
  normalizeMount,
  OpenFileCache,
  openFileReader,
  readerStream,
  reportDenied,
  type OpenFile,
} from 'pxekit/kit';
import { DiskLookup, type FollowSymlinks } from './lookup.js';

export interface SourceDiskOptions {
  /** The folder to serve. Relative paths are resolved against the config file's folder, or the cwd. */
  root: string;
  /** Where the folder appears in the virtual tree. */
  mount: string;
  /** Only paths (relative to the mount) matching one of these globs are served. */
  include?: string[];
  /** Paths (relative to the mount) matching any of these globs are never served. */
  exclude?: string[];
  caseInsensitive: boolean;
  /** `inside` (default), `any` or `none`; the old booleans still work: true = `inside`, false = `none`. */
  followSymlinks: FollowSymlinks | boolean;
  /** A missing root logs `files.mount.missing` and serves nothing, instead of failing start-up. */
  optional: boolean;
  /** With `optional`: how to provide the folder, put first in the warning's `fix` (e.g. "apt install ipxe"). */
  missingHint?: string;
  /** Plugin instance name, to mount several folders. */
  name?: string;
  /** Most unused files kept open between requests (0: open and close per request). */
  openFiles: number;
  /** A kept file unused this many seconds is closed. */
  openFilesIdleSeconds: number;
  /** The root is on a network file system: no file-system call on the event loop. */
  networkFileSystem: boolean;
}

/** The boolean spellings of earlier versions mapped onto the modes. */
export function followMode(v: FollowSymlinks | boolean | undefined): FollowSymlinks {
  if (v === undefined || v === true) return 'inside';
  if (v === false) return 'none';
  return v;
}

export const sourceDiskSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['root'],
  properties: {
    root: {
      type: 'string',
      minLength: 1,
      description:
        "Folder to serve: absolute, or relative to the config file's folder (to the current directory when the server was built in code).",
    },
    mount: {
      type: 'string',
      default: '/',
      description: 'Prefix in the virtual tree under which the folder appears (e.g. "/ipxe").',
    },
    include: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description:
        'Globs (minimatch, matched against the path relative to the mount, dotfiles included); when set, only matching files are served.',
    },
    exclude: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Globs of files never served (checked after include).',
    },
    caseInsensitive: {
      type: 'boolean',
      default: false,
      description:
        'Match each path segment case-insensitively when the exact name is missing (trees made ' +
        'on Windows; pxelinux/WDS clients vary case).',
    },
    followSymlinks: {
      anyOf: [{ type: 'string', enum: ['inside', 'any', 'none'] }, { type: 'boolean' }],
      default: 'inside',
      description:
        'Which symlinks are followed: "inside" (those that stay inside the root; a link leading ' +
        'out is refused), "any" (also links leading anywhere else: every link in the tree then ' +
        'exposes its target), "none" (no symlinks). true = "inside", false = "none".',
    },
    optional: {
      type: 'boolean',
      default: false,
      description:
        'When the root folder is missing (or not a folder), log a files.mount.missing warning ' +
        'and serve nothing instead of failing start-up.',
    },
    missingHint: {
      type: 'string',
      minLength: 1,
      description:
        'With optional: how to provide the folder (e.g. "apt install ipxe"), put first in the files.mount.missing warning\'s fix.',
    },
    name: {
      type: 'string',
      minLength: 1,
      description:
        'Plugin instance name (default "source-disk"); give each instance its own name to mount several folders.',
    },
    openFiles: {
      type: 'integer',
      minimum: 0,
      maximum: 100_000,
      default: 256,
      description:
        'Most unused files kept open between requests (like nginx open_file_cache): a kept file costs a ' +
        'stat per request instead of realpath + stat + open + close; every request still sees a file ' +
        'replaced on disk. 0 = open and close per request.',
    },
    openFilesIdleSeconds: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 86_400,
      default: 10,
      description: 'A kept file that no request used for this many seconds is closed.',
    },
    networkFileSystem: {
      type: 'boolean',
      default: false,
      description:
        'The root is on a network file system (NFS, SMB, sshfs): the per-request stat of a kept file goes ' +
        "through node's thread pool instead of the event loop, where a slow or hung server would stall " +
        'every protocol. Local disks (the default) answer it in microseconds from the kernel cache.',
    },
  },
} as const;

/** `"<size hex>-<mtime ms hex>"`, as nginx builds its ETag: changes whenever size or mtime change. */
export function diskEtag(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

export default function sourceDisk(options: Partial<SourceDiskOptions> = {}) {
  return definePlugin<SourceDiskOptions>({
    name: options.name ?? 'source-disk',
    options,
    optionsSchema: sourceDiskSchema,
    // validate: the root must be a readable folder (start fails otherwise, unless optional).
    async check({ options: o, baseDir }) {
      const root = fromBase(baseDir, o.root);
      let why: string | undefined;
      try {
        const real = await fsp.realpath(root);
        if (!(await fsp.stat(real)).isDirectory()) why = 'not a folder';
        else await fsp.access(real, fsConstants.R_OK | fsConstants.X_OK);
      } catch (err) {
        why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      }
      if (!why) return [];
      const fix = 'create the folder, or fix "root" (relative paths start at the config file\'s folder)';
      return [
        {
          severity: o.optional ? 'warning' : 'error',
          key: 'root',
          message: `root folder ${root} is not usable${o.optional ? ' (optional: this source serves nothing)' : ''}`,
          found: why === 'ENOENT' ? 'no such folder' : why === 'EACCES' ? 'not readable by this user' : why,
          expected: 'a readable folder',
          fix: o.optional
            ? `${o.missingHint ? `${o.missingHint}, or ` : ''}${fix}`
            : `${fix}, or set "optional: true" to start without it`,
        },
      ];
    },
    apply(server, { options: o, log, name, baseDir: base }) {
      const root = fromBase(base, o.root);
      const mount = normalizeMount(o.mount);
      const matchOpts = { dot: true, nocase: o.caseInsensitive };
      // Compiled once: minimatch(rel, glob) would build a RegExp per request and glob.
      const include = o.include?.map((g) => new Minimatch(g, matchOpts));
      const exclude = (o.exclude ?? []).map((g) => new Minimatch(g, matchOpts));
      const allowed = (rel: string) =>
        (!include || include.some((m) => m.match(rel))) && !exclude.some((m) => m.match(rel));
      let lookup: DiskLookup | undefined;
      const keep = o.openFiles ?? 256;
      const files =
        keep > 0
          ? new OpenFileCache({
              max: keep,
              idleMs: (o.openFilesIdleSeconds ?? 10) * 1000,
              syncStat: !o.networkFileSystem,
            })
          : undefined;
      server.hooks.close.tapPromise(name, async () => files?.close());

      server.hooks.ready.tapPromise(name, async () => {
        let rootReal: string;
        try {
          rootReal = await fsp.realpath(root);
          if (!(await fsp.stat(rootReal)).isDirectory()) throw new Error('not a directory');
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          const fix = 'create the folder, or fix "root" (relative paths start at the config file\'s folder)';
          if (o.optional) {
            // Serves nothing until the next start; the rest of the tree (other sources) is unaffected.
            log.warn(
              {
                event: 'files.mount.missing',
                source: name,
                mount,
                root,
                reason: why,
                fix: `${o.missingHint ? `${o.missingHint}, or ` : ''}${fix}; this source serves nothing until pxekit restarts`,
              },
              `${name}: root folder ${root} is not usable (${why}); optional, so it serves nothing`,
            );
            return;
          }
          throw new PxeError('PXE_ERR_FILE_SOURCE', `${name}: root folder ${root} is not usable: ${why}`, {
            cause: err,
            fix: `${fix}, or set "optional: true" to start without it`,
            details: { plugin: name, root },
          });
        }
        const followSymlinks = followMode(o.followSymlinks);
        lookup = new DiskLookup({ rootReal, caseInsensitive: o.caseInsensitive, followSymlinks });
        log.info({ event: 'files.mount', source: name, mount, root: rootReal, followSymlinks }, 'disk source mounted');
      });

      const handleOf = (path: string, stat: Stats, openReader: () => Promise<FileReader>): FileHandle => {
        const size = stat.size;
        return {
          path,
          size,
          mtime: stat.mtime,
          etag: diskEtag(size, stat.mtimeMs),
          source: name,
          // Bounded by the size we announced, so Content-Length / tsize stay true if the file grows; read
          // from the same descriptor as openReader, so a stream is one version of the file too.
          async open(range) {
            const b = boundsFor(range, size);
            return b ? readerStream(await openReader(), b) : Readable.from([]);
          },
          // Positional reads for TFTP (one reused buffer per transfer, page-cache hits without the thread
          // pool) and the descriptor for HTTP's sendfile; the caller bounds reads by `size`.
          openReader,
        };
      };

      server.files.hooks.resolve.tapPromise(name, async (req): Promise<FileHandle | undefined> => {
        if (!lookup) return undefined;
        const at = mountedPath(server, log, name, req, mount);
        if (!at) return undefined;
        const { rel } = at;
        if (!allowed(rel)) {
          log.debug({ event: 'files.filtered', path: req.path }, 'path excluded by include/exclude');
          return undefined;
        }
        const kept = files ? await files.get(rel) : undefined;
        if (kept) return handleOf(req.path, kept.stat, () => kept.reader());
        const r = await lookup.find(at.segments);
        if (!r.found) {
          if (r.denied) reportDenied(server, log, name, req, r.denied);
          return undefined;
        }
        if (!files) return handleOf(req.path, r.stat, () => openFileReader(r.realPath));
        const f: OpenFile | undefined = await files.open(rel, r.realPath, r.lexicalPath);
        return f ? handleOf(req.path, f.stat, () => f.reader()) : undefined;
      });
    },
  });
}
