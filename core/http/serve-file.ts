import type { HttpRequestLike, HttpResponseLike } from './exchange.js';
import type { FileHandle } from '../files/types.js';
import { contentRange, decideRange, isNotModified, validatorsFor } from './conditional.js';
import { contentTypeFor } from './content-type.js';
import { sendFromReader, sendFromStream } from './send-body.js';

/** What happened when a file was served. */
export interface ServeResult {
  status: number;
  /** Body bytes written. */
  bytes: number;
  /** `start-end` when a single range was served. */
  range?: string;
  /** The whole planned body went out (always true for bodiless answers). */
  complete: boolean;
  /** The client went away mid-body (not an error of ours). */
  aborted?: boolean;
  /** A source or stream failure after the headers were sent; the socket was destroyed. */
  error?: unknown;
}

/**
 * Serves a FileHandle on a GET or HEAD: validators and 304, a single Range (206/416), HEAD without a
 * body, and the body (send-body.ts): positional reads into reused buffers when the source offers
 * `openReader` (disk), else its stream with backpressure (the source is destroyed when the client
 * aborts). Sources only promise `size` + `open(range)`, so nothing here touches a disk path.
 * Throws only when `handle.open`/`openReader` fails before any header was written (the caller answers 500).
 */
export async function serveFile(req: HttpRequestLike, res: HttpResponseLike, handle: FileHandle): Promise<ServeResult> {
  const method = req.method ?? 'GET';
  const v = validatorsFor(handle);
  const headers: Record<string, string | number> = {
    'Accept-Ranges': 'bytes',
    'Content-Type': contentTypeFor(handle.path),
  };
  if (v.etag) headers['ETag'] = v.etag;
  if (v.lastModified) headers['Last-Modified'] = v.lastModified;

  if (isNotModified(req.headers, v)) {
    delete headers['Content-Type'];
    res.writeHead(304, headers);
    res.end();
    return { status: 304, bytes: 0, complete: true };
  }

  // Range is defined for GET only (RFC 9110 §14.2): HEAD describes the whole representation.
  const decision =
    method === 'GET'
      ? decideRange(handle.size, headerValue(req.headers.range), headerValue(req.headers['if-range']), v)
      : { kind: 'full' as const };
  if (decision.kind === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': contentRange(handle.size), 'Content-Length': 0 });
    res.end();
    return { status: 416, bytes: 0, complete: true };
  }
  const range = decision.kind === 'partial' ? { start: decision.start, end: decision.end } : undefined;
  const status = range ? 206 : 200;
  const length = range ? range.end - range.start + 1 : handle.size;
  if (range) headers['Content-Range'] = contentRange(handle.size, range);
  headers['Content-Length'] = length;
  const rangeTag = range ? `${range.start}-${range.end}` : undefined;
  const base = { status, ...(rangeTag ? { range: rangeTag } : {}) };

  if (method === 'HEAD' || length === 0) {
    res.writeHead(status, headers);
    res.end();
    return { ...base, bytes: 0, complete: true };
  }

  // Open before writing headers, so a source failure can still be a clean 500.
  const first = range?.start ?? 0;
  const body = handle.openReader
    ? await handle.openReader().then((reader) => () => sendFromReader(res, reader, first, length))
    : await handle.open(range).then((source) => () => sendFromStream(res, source, length));
  // A socket error mid-body ends the response (close); without a listener it would crash the process.
  const onResError = () => undefined;
  res.on('error', onResError);
  res.writeHead(status, headers);
  const r = await body();
  res.off('error', onResError);
  // Headers are out: the only honest signal left is cutting the connection (never a short keep-alive body).
  if (!r.complete) res.destroy();
  // Built field by field: spreads of two objects with optional keys cost a runtime call each per request.
  const out: ServeResult = { status, bytes: r.bytes, complete: r.complete };
  if (rangeTag) out.range = rangeTag;
  if (r.aborted) out.aborted = r.aborted;
  if (r.error !== undefined) out.error = r.error;
  return out;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

export { LengthError } from './send-body.js';
