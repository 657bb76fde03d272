/**
 * Shared pieces of every file source: where a source is mounted in the virtual tree, and the
 * defence-in-depth check of the part of a path a source looks up itself.
 */
import type { PxeServer } from '../../server.js';
import type { ResolveRequest } from '../../hooks/files.js';
import { stripMount } from '../path.js';

/** `/boot/` → `/boot`, `boot` → `/boot`, `` or `/` → `/`. Throws on `..` or control characters. */
export function normalizeMount(mount: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(mount)) throw new Error(`mount "${mount}" contains a control character`);
  const parts = mount.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new Error(`mount "${mount}" contains ..`);
  return `/${parts.join('/')}`;
}

/** Why a relative path was refused, or its segments. */
export type SafeSegments = { ok: true; segments: string[] } | { ok: false; reason: string };

/**
 * Splits the mount-relative part of a virtual path (`a/b/c`) into segments and refuses anything a
 * normalised path should never hold: the core normalises already, but a source that is called directly
 * (a test, another plugin) must still not be walked out of its root.
 */
export function safeSegments(rel: string): SafeSegments {
  if (rel.length > 4096) return { ok: false, reason: 'path too long' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rel)) return { ok: false, reason: 'control character in path' };
  if (rel.includes('\\')) return { ok: false, reason: 'backslash in path' };
  if (rel.startsWith('/')) return { ok: false, reason: 'absolute path' };
  const segments = rel === '' ? [] : rel.split('/');
  for (const s of segments) {
    if (s === '' || s === '.') return { ok: false, reason: 'empty or . segment' };
    if (s === '..') return { ok: false, reason: 'parent directory segment (..)' };
  }
  return { ok: true, segments };
}

/** The protocol field a boot event may carry for a resolve request (`explain` is the server's own). */
export function eventProtocol(req: ResolveRequest): 'tftp' | 'http' | 'server' {
  return req.protocol === 'explain' ? 'server' : req.protocol;
}

/**
 * Logs (warn, `files.denied`) and emits a `files.denied` boot event for a path a source refused for
 * safety: a traversal attempt is worth an operator's attention, a plain miss is not.
 */
export function reportDenied(
  server: PxeServer,
  log: { warn(obj: object, msg: string): void },
  plugin: string,
  req: ResolveRequest,
  reason: string,
): void {
  log.warn(
    { event: 'files.denied', path: req.path, reason, protocol: req.protocol, client: req.clientAddress },
    'file request refused',
  );
  server.emit({
    type: 'files.denied',
    protocol: eventProtocol(req),
    outcome: 'denied',
    plugin,
    ...(req.clientAddress ? { ip: req.clientAddress } : {}),
    ...(req.session ? { session: req.session } : {}),
    data: { path: req.path, reason },
  });
}

/** The mount-relative part of `path`, or undefined when the path is not under this source's mount. */
export function underMount(path: string, mount: string): string | undefined {
  return stripMount(path, mount);
}

/** A request path as a source looks it up: relative to its mount (`rel`) and split into safe segments. */
export interface MountedPath {
  rel: string;
  segments: string[];
}

/**
 * The prelude of every source's `resolve` tap: the part of `req.path` under `mount`, checked by
 * safeSegments. Undefined when the path is not this source's (outside the mount, or the mount itself) or
 * is unsafe — an unsafe one is reported (`files.denied` log line and event, naming `plugin`).
 */
export function mountedPath(
  server: PxeServer,
  log: { warn(obj: object, msg: string): void },
  plugin: string,
  req: ResolveRequest,
  mount: string,
): MountedPath | undefined {
  const rel = underMount(req.path, mount);
  if (rel === undefined || rel === '') return undefined;
  const safe = safeSegments(rel);
  if (!safe.ok) {
    reportDenied(server, log, plugin, req, safe.reason);
    return undefined;
  }
  return { rel, segments: safe.segments };
}
