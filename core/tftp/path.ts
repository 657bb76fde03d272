/**
 * Request path → normalised virtual path (`/a/b`), shared by TFTP and HTTP.
 *
 * Decisions:
 * - Backslashes become `/` (as dnsmasq does): Windows-made pxelinux configs use them, and converting
 *   before the segment checks means they can never be used to smuggle a `..`.
 * - `.` and empty segments are dropped; a `..` segment is refused, never resolved, so no request can climb
 *   out of a source's root whatever the depth.
 * - Leading `/` is stripped: absolute paths map onto the virtual root.
 * - TFTP file names are literal: `%2e%2e` is a file called `%2e%2e`, not decoded (`decodePercent: false`).
 *   HTTP decodes first (`decodePercent: true`). In both modes a segment whose percent-decoding is `.` or `..`
 *   is refused, so a later layer that decodes (an S3 or HTTP upstream) cannot turn it into a traversal.
 * - NUL and other control characters, and invalid UTF-8 (U+FFFD after decoding), are refused.
 * Symlinks escaping a disk root are the disk source's job (it resolves real paths); this module is lexical.
 */

export type PathResult = { ok: true; path: string } | { ok: false; reason: string };

export interface NormalizeOptions {
  /** Percent-decode before checking (HTTP). TFTP leaves it false. */
  decodePercent?: boolean;
  /** Longest accepted path in characters (default 1024). */
  maxLength?: number;
}

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

export function normalizeVirtualPath(raw: string, opts: NormalizeOptions = {}): PathResult {
  const maxLength = opts.maxLength ?? 1024;
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

  const out: string[] = [];
  for (const seg of s.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return { ok: false, reason: "'..' segment" };
    // Percent-encoded dots: refuse whatever the mode, so no later decoding layer can create a '..'.
    if (seg.includes('%')) {
      const once = tryDecode(seg);
      const twice = once !== undefined ? tryDecode(once) : undefined;
      if ((once !== undefined && isDotSegment(once)) || (twice !== undefined && isDotSegment(twice))) {
        return { ok: false, reason: 'encoded dot segment' };
      }
      if (once !== undefined && /[/\\]/.test(once)) {
        const inner = once.replace(/\\/g, '/').split('/');
        if (inner.some(isDotSegment)) return { ok: false, reason: 'encoded dot segment' };
      }
    }
    if (seg.length > MAX_SEGMENT) return { ok: false, reason: 'path segment too long' };
    out.push(seg);
  }
  if (out.length === 0) return { ok: false, reason: 'empty path' };
  return { ok: true, path: '/' + out.join('/') };
}
