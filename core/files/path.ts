/**
 * Requested path → safe virtual path (`/a/b`), or why it is refused. ONE normaliser for TFTP, HTTP,
 * `files.resolve` and plugins, so a traversal cannot slip through one protocol's rules.
 *
 * - Backslashes become `/` (Windows-made pxelinux/WDS configs use them; dnsmasq converts too). Converting
 *   before the segment checks means they can never smuggle a `..`.
 * - `//` collapses, `.` segments drop; a `..` segment anywhere is refused, never resolved upward.
 * - A leading `/` is the tree's root, never the host's.
 * - NUL and other control characters, invalid UTF-8 (U+FFFD), over-long paths and segments are refused.
 * - Percent-encoding: `decodePercent` decodes once first (HTTP style). With `encodedDots: 'refuse'`
 *   (the default, and what TFTP uses) a segment whose percent-decoding (once or twice) is `.`/`..` or
 *   contains one is refused too, so no later decoding layer (an HTTP upstream, an S3 gateway) can turn
 *   it into a traversal. `'literal'` keeps such segments as plain names: `files.resolve` and the HTTP
 *   target parser use it, because their callers already decoded exactly once and a folder literally
 *   named `%2e%2e` is a legal name on disk (sources that decode again must check for themselves).
 * Symlinks escaping a disk root are the disk source's job (it resolves real paths); this module is lexical.
 */

export type PathResult = { ok: true; path: string } | { ok: false; reason: string };
/** @deprecated alias of PathResult, kept for existing imports. */
export type NormalizedPath = PathResult;

export interface NormalizeOptions {
  /** Percent-decode once before checking (default false: TFTP names are literal). */
  decodePercent?: boolean;
  /** Segments that decode to `.`/`..`: refused (default) or kept as literal names. */
  encodedDots?: 'refuse' | 'literal';
  /** Accept a path that normalises to the root `/` (default false: TFTP has no directory listings). */
  allowRoot?: boolean;
  /** Longest accepted path in characters, after decoding (default 1024). */
  maxLength?: number;
}

/** The options `files.resolve` and HTTP use (decoding happens before, once; `/` is a valid target). */
export const LITERAL_PATH_OPTIONS: Readonly<NormalizeOptions> = Object.freeze({
  encodedDots: 'literal',
  allowRoot: true,
  maxLength: 4096,
});

/** NAME_MAX on Linux: no source can hold a longer name. */
const MAX_SEGMENT = 255;

function tryDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function isDotSegment(seg: string): boolean {
  return seg === '.' || seg === '..';
}

/** Would decoding this segment once or twice produce a `.`/`..` segment? */
function hidesDotSegment(seg: string): boolean {
  const once = tryDecode(seg);
  if (once === undefined) return false;
  const twice = tryDecode(once);
  for (const d of [once, twice]) {
    if (d !== undefined && d.replace(/\\/g, '/').split('/').some(isDotSegment)) return true;
  }
  return false;
}

/**
 * Results of the two hot option sets (TFTP's default, and LITERAL_PATH_OPTIONS for `files.resolve` and
 * HTTP), by raw path: in a boot storm every machine asks for the same few paths, each normalised twice
 * per request. The function is pure; the results are frozen and shared. Bounded: cleared when full.
 */
const MEMO_MAX = 512;
const MEMO_MAX_PATH = 256;
const memoDefault = new Map<string, PathResult>();
const memoLiteral = new Map<string, PathResult>();

export function normalizeVirtualPath(raw: string, opts?: NormalizeOptions): PathResult {
  const memo = opts === undefined ? memoDefault : opts === LITERAL_PATH_OPTIONS ? memoLiteral : undefined;
  if (memo === undefined || raw.length > MEMO_MAX_PATH) return normalize(raw, opts ?? {});
  let r = memo.get(raw);
  if (r === undefined) {
    if (memo.size >= MEMO_MAX) memo.clear();
    r = Object.freeze(normalize(raw, opts ?? {}));
    memo.set(raw, r);
  }
  return r;
}

function normalize(raw: string, opts: NormalizeOptions): PathResult {
  const maxLength = opts.maxLength ?? 1024;
  if (raw.length === 0) return { ok: false, reason: 'empty path' };
  let s = raw;
  if (opts.decodePercent) {
    const decoded = tryDecode(s);
    if (decoded === undefined) return { ok: false, reason: 'bad percent-encoding' };
    s = decoded;
  }
  if (s.length > maxLength) return { ok: false, reason: 'path too long' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return { ok: false, reason: 'control character in path' };
  if (s.includes('\uFFFD')) return { ok: false, reason: 'invalid UTF-8 in path' };

  const refuseEncoded = (opts.encodedDots ?? 'refuse') === 'refuse';
  const out: string[] = [];
  for (const seg of s.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return { ok: false, reason: 'parent directory segment (..) in path' };
    if (refuseEncoded && seg.includes('%') && hidesDotSegment(seg)) return { ok: false, reason: 'encoded dot segment' };
    if (seg.length > MAX_SEGMENT) return { ok: false, reason: 'path segment too long' };
    out.push(seg);
  }
  if (out.length === 0 && !opts.allowRoot) return { ok: false, reason: 'empty path' };
  return { ok: true, path: '/' + out.join('/') };
}

/** `/a/b/c` is inside mount `/a` (or `/`): returns the rest (`b/c`), or undefined. */
export function stripMount(path: string, mount: string): string | undefined {
  const m = mount === '/' ? '' : mount.replace(/\/+$/, '');
  if (m === '') return path.slice(1);
  if (path === m) return '';
  return path.startsWith(`${m}/`) ? path.slice(m.length + 1) : undefined;
}
