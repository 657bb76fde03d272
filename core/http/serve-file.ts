import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileHandle } from '../files/types.js';
import { contentRange, decideRange, isNotModified, validatorsFor } from './conditional.js';
import { contentTypeFor } from './content-type.js';

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
 * body, and a streamed body through `pipeline` (backpressure; the source is destroyed when the client
 * aborts). Sources only promise `size` + `open(range)`, so nothing here touches a disk path.
 * Throws only when `handle.open` fails before any header was written (the caller answers 500).
 */
export async function serveFile(req: IncomingMessage, res: ServerResponse, handle: FileHandle): Promise<ServeResult> {
  const method = req.method ?? 'GET';
  const v = validatorsFor(handle);
  const headers: Record<string, string | number> = { 'Accept-Ranges': 'bytes', 'Content-Type': contentTypeFor(handle.path) };
  if (v.etag) headers['ETag'] = v.etag;
  if (v.lastModified) headers['Last-Modified'] = v.lastModified;

  if (isNotModified(req.headers, v)) {
    delete headers['Content-Type'];
    res.writeHead(304, headers);
    res.end();
    return { status: 304, bytes: 0, complete: true };
  }

  // Range is defined for GET only (RFC 9110 §14.2): HEAD describes the whole representation.
  const decision = method === 'GET' ? decideRange(handle.size, headerValue(req.headers.range), headerValue(req.headers['if-range']), v) : { kind: 'full' as const };
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
  const source: Readable = await handle.open(range);
  let sourceError: unknown;
  source.once('error', (err: unknown) => { sourceError = err; });
  const guard = new LengthGuard(length);
  res.writeHead(status, headers);
  try {
    await pipeline(source, guard, res);
    return { ...base, bytes: guard.bytes, complete: true };
  } catch (err) {
    source.destroy();
    const ours = sourceError !== undefined || err instanceof LengthError;
    // Every body byte was written, but a Connection: close client that had its Content-Length hung up
    // before our end() ran: that is a complete response, not an abort.
    if (!ours && guard.bytes === length) return { ...base, bytes: guard.bytes, complete: true };
    // Headers are out: the only honest signal left is cutting the connection (never a short keep-alive body).
    res.destroy();
    return { ...base, bytes: guard.bytes, complete: false, ...(ours ? { error: sourceError ?? err } : { aborted: true }) };
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** A source that yields more or fewer bytes than it announced. */
export class LengthError extends Error {}

/**
 * Passes bytes through, failing if the source yields more or fewer than Content-Length: a wrong
 * length on a keep-alive connection would make the client read the next response as body.
 */
class LengthGuard extends Transform {
  bytes = 0;
  readonly #expected: number;
  constructor(expected: number) {
    super();
    this.#expected = expected;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#expected) cb(new LengthError(`source yielded more than the ${this.#expected} bytes it announced`));
    else cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    cb(this.bytes === this.#expected ? null : new LengthError(`source yielded ${this.bytes} of the ${this.#expected} bytes it announced`));
  }
}
