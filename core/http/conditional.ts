import fresh from 'fresh';
import rangeParser from 'range-parser';
import type { IncomingHttpHeaders } from 'node:http';
import type { FileHandle } from '../files/types.js';

/** The validators a response carries: from the source, or a weak ETag made from size and mtime. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/**
 * The source's strong ETag when it has one; otherwise a weak one from size and mtime (weak because
 * two writes within the same mtime tick could differ, RFC 9110 §8.8.1). No mtime, no invented ETag.
 */
export function validatorsFor(handle: Pick<FileHandle, 'size' | 'mtime' | 'etag'>): Validators {
  const v: Validators = {};
  const ms = handle.mtime ? handle.mtime.getTime() : NaN;
  if (handle.etag) v.etag = handle.etag;
  else if (!Number.isNaN(ms)) v.etag = `W/"${handle.size.toString(16)}-${ms.toString(16)}"`;
  if (!Number.isNaN(ms)) v.lastModified = httpDate(ms);
  return v;
}

/** The last few Last-Modified strings: a boot storm asks for the same few files, formatting a date each time shows. */
const httpDates = new Map<number, string>();
const HTTP_DATES_KEPT = 64;

function httpDate(ms: number): string {
  let s = httpDates.get(ms);
  if (s === undefined) {
    if (httpDates.size >= HTTP_DATES_KEPT) httpDates.clear();
    s = new Date(ms).toUTCString();
    httpDates.set(ms, s);
  }
  return s;
}

/** If-None-Match / If-Modified-Since say the client's copy is current (answer 304). */
export function isNotModified(reqHeaders: IncomingHttpHeaders, v: Validators): boolean {
  if (!reqHeaders['if-none-match'] && !reqHeaders['if-modified-since']) return false;
  const res: Record<string, string> = {};
  if (v.etag) res['etag'] = v.etag;
  if (v.lastModified) res['last-modified'] = v.lastModified;
  return fresh(reqHeaders, res);
}

/** What to send for a GET: the whole file, one inclusive range, or 416. */
export type RangeDecision =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * Applies `Range` and `If-Range` (RFC 9110 §14.2, §13.1.5) to a file of `size` bytes:
 * - no Range, a syntactically bad one, a non-bytes unit, or a stale If-Range: the full file;
 * - several ranges: the full file (a server may ignore Range; no multipart, firmware never asks);
 * - one range: 206 with that range (suffix `bytes=-N` included); none satisfiable: 416.
 */
export function decideRange(
  size: number,
  rangeHeader: string | undefined,
  ifRange: string | undefined,
  v: Validators,
): RangeDecision {
  if (!rangeHeader) return { kind: 'full' };
  if (ifRange !== undefined && !ifRangeMatches(ifRange, v)) return { kind: 'full' };
  const r = rangeParser(size, rangeHeader, { combine: true });
  if (r === -2) return { kind: 'full' };
  if (r === -1) return { kind: 'unsatisfiable' };
  if (r.type !== 'bytes' || r.length !== 1) return { kind: 'full' };
  const only = r[0]!;
  return { kind: 'partial', start: only.start, end: only.end };
}

/**
 * If-Range holds an ETag or a date. An ETag matches only by strong comparison (a weak one never
 * matches); a date matches only when it equals Last-Modified exactly.
 */
export function ifRangeMatches(ifRange: string, v: Validators): boolean {
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    return v.etag !== undefined && !v.etag.startsWith('W/') && !value.startsWith('W/') && value === v.etag;
  }
  if (!v.lastModified) return false;
  const asked = Date.parse(value);
  return !Number.isNaN(asked) && asked === Date.parse(v.lastModified);
}

/** `bytes 0-99/1000` for 206, `bytes *\/1000` for 416. */
export function contentRange(size: number, range?: { start: number; end: number }): string {
  return range ? `bytes ${range.start}-${range.end}/${size}` : `bytes */${size}`;
}
