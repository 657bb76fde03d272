import { LITERAL_PATH_OPTIONS, normalizeVirtualPath } from '../files/path.js';

/** A request target made safe: the normalised virtual path and the query. */
export type ParsedTarget =
  { ok: true; path: string; query: URLSearchParams } | { ok: false; status: 400; reason: string };

/**
 * Splits `req.url` into path and query WITHOUT the WHATWG URL parser: `new URL()` resolves `..` and
 * `%2e%2e` segments upward, which would turn a traversal attempt into a different file instead of a
 * refusal. The path is percent-decoded exactly once (so `%252e%252e` stays a literal `%2e%2e` name) and
 * then goes through the same normaliser as TFTP: `//` collapses (a 301 for `//` killed UEFI HTTP boot,
 * smee PR #229), `..` is refused, never redirected.
 */
export function parseRequestTarget(rawUrl: string | undefined): ParsedTarget {
  if (!rawUrl) return { ok: false, status: 400, reason: 'empty request target' };
  let target = rawUrl;
  // Absolute form (`GET http://host/path`, RFC 9112 §3.2.2): keep only the path and query.
  const abs = /^https?:\/\/[^/?#]*/i.exec(target);
  if (abs) target = target.slice(abs[0].length) || '/';
  if (!target.startsWith('/')) return { ok: false, status: 400, reason: 'request target is not a path' };
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding in path' };
  }
  const norm = normalizeVirtualPath(decoded, LITERAL_PATH_OPTIONS);
  if (!norm.ok) return { ok: false, status: 400, reason: norm.reason };
  return { ok: true, path: norm.path, query: new URLSearchParams(rawQuery) };
}
