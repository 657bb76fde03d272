/**
 * source-disk: serves a folder of the boot server under a mount prefix of the virtual tree.
 * Files are looked up per request (stat + realpath), opened per request and streamed; nothing stays open.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { minimatch } from 'minimatch';
import { PxeError } from '../../core/errors.js';
import { normalizeMount, reportDenied, safeSegments, underMount } from '../../core/files/sources/mount.js';
import { boundsFor } from '../../core/files/sources/range.js';
import type { FileHandle } from '../../core/files/types.js';
import { definePlugin } from '../../core/plugin.js';
import { DiskLookup } from './lookup.js';

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
  followSymlinks: boolean;
  /** Plugin instance name, to mount several folders. */
  name?: string;
}

export const sourceDiskSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['root'],
  properties: {
    root: { type: 'string', minLength: 1, description: 'Folder to serve: absolute, or relative to the config file\'s folder (to the current directory when the server was built in code).' },
    mount: { type: 'string', default: '/', description: 'Prefix in the virtual tree under which the folder appears (e.g. "/ipxe").' },
    include: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Globs (minimatch, matched against the path relative to the mount, dotfiles included); when set, only matching files are served.' },
    exclude: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Globs of files never served (checked after include).' },
    caseInsensitive: { type: 'boolean', default: false, description: 'Match each path segment case-insensitively when the exact name is missing (trees made on Windows; pxelinux/WDS clients vary case).' },
    followSymlinks: { type: 'boolean', default: true, description: 'Follow symlinks that stay inside the root. A symlink leading outside the root is always refused.' },
    name: { type: 'string', minLength: 1, description: 'Plugin instance name (default "source-disk"); give each instance its own name to mount several folders.' },
  },
} as const;

/** `"<size hex>-<mtime ms hex>"`, as nginx builds its ETag: changes whenever size or mtime change. */
export function diskEtag(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

export default function sourceDisk(options: Partial<SourceDiskOptions> = {}) {
  const name = options.name ?? 'source-disk';
  return definePlugin<SourceDiskOptions>({
    name,
    options,
    optionsSchema: sourceDiskSchema,
    apply(server, { options: o, log }) {
      const base = server.configFile ? dirname(resolve(server.configFile)) : process.cwd();
      const root = isAbsolute(o.root) ? o.root : resolve(base, o.root);
      const mount = normalizeMount(o.mount);
      const matchOpts = { dot: true, nocase: o.caseInsensitive };
      const allowed = (rel: string) =>
        (!o.include || o.include.some((g) => minimatch(rel, g, matchOpts))) && !(o.exclude ?? []).some((g) => minimatch(rel, g, matchOpts));
      let lookup: DiskLookup | undefined;

      server.hooks.ready.tapPromise(name, async () => {
        let rootReal: string;
        try {
          rootReal = await fsp.realpath(root);
          if (!(await fsp.stat(rootReal)).isDirectory()) throw new Error('not a directory');
        } catch (err) {
          throw new PxeError('PXE_ERR_FILE_SOURCE', `${name}: root folder ${root} is not usable: ${err instanceof Error ? err.message : String(err)}`, {
            cause: err, fix: 'create the folder, or fix "root" (relative paths start at the config file\'s folder)', details: { plugin: name, root },
          });
        }
        lookup = new DiskLookup({ rootReal, caseInsensitive: o.caseInsensitive, followSymlinks: o.followSymlinks });
        log.info({ event: 'files.mount', source: name, mount, root: rootReal }, 'disk source mounted');
      });

      server.files.hooks.resolve.tapPromise(name, async (req): Promise<FileHandle | undefined> => {
        const rel = underMount(req.path, mount);
        if (rel === undefined || rel === '' || !lookup) return undefined;
        const safe = safeSegments(rel);
        if (!safe.ok) {
          reportDenied(server, log, name, req, safe.reason);
          return undefined;
        }
        if (!allowed(rel)) {
          log.debug({ event: 'files.filtered', path: req.path }, 'path excluded by include/exclude');
          return undefined;
        }
        const r = await lookup.find(safe.segments);
        if (!r.found) {
          if (r.denied) reportDenied(server, log, name, req, r.denied);
          return undefined;
        }
        const { realPath, stat } = r;
        const size = stat.size;
        return {
          path: req.path,
          size,
          mtime: stat.mtime,
          etag: diskEtag(size, stat.mtimeMs),
          source: name,
          // Bounded by the size we announced, so Content-Length / tsize stay true if the file grows.
          async open(range) {
            const b = boundsFor(range, size);
            return b ? createReadStream(realPath, { start: b.start, end: b.end }) : Readable.from([]);
          },
          // Positional reads for TFTP (one reused buffer per transfer); the caller bounds reads by `size`.
          async openReader() {
            const fh = await fsp.open(realPath, 'r');
            return { read: async (buf, off, len, pos) => (await fh.read(buf, off, len, pos)).bytesRead, close: () => fh.close() };
          },
        };
      });
    },
  });
}
