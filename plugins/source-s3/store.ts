/**
 * A read-only S3 client on aws4fetch: HEAD for size/ETag, ranged GET. Every request has a deadline for its
 * answer (AbortSignal; a flowing body is not cut, a stalled one is), aws4fetch's own retries are off (a dead
 * store must fail fast, not back off for seconds), and ranges are always explicit `bytes=a-b` (s3rver answers
 * suffix ranges wrongly; HTTP resolves them first).
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { AwsClient } from 'aws4fetch';
import { type ByteRange, PxeError } from 'pxekit';
import type { CredentialProvider, S3Credentials } from './credentials.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  timeoutMs: number;
}

export interface S3Head {
  size: number;
  etag: string;
  mtime?: Date;
}

type AwsClientCtor = typeof AwsClient;

export class S3Store {
  readonly #o: S3StoreOptions;
  readonly #creds: CredentialProvider;
  readonly #Aws: AwsClientCtor;
  #client: { creds: S3Credentials; aws: AwsClient } | undefined;

  constructor(o: S3StoreOptions, creds: CredentialProvider, Aws: AwsClientCtor) {
    this.#o = o;
    this.#creds = creds;
    this.#Aws = Aws;
  }

  /** The object URL: path style (`endpoint/bucket/key`) or virtual-hosted (`bucket.host/key`). */
  url(key: string, withPrefix = true): string {
    const k = `${withPrefix ? this.#o.prefix : ''}${key}`.split('/').map(encodeURIComponent).join('/');
    const endpoint = this.#o.endpoint ?? `https://s3.${this.#o.region}.amazonaws.com`;
    const u = new URL(endpoint);
    const basePath = u.pathname.replace(/\/+$/, '');
    if (this.#o.forcePathStyle) return `${u.protocol}//${u.host}${basePath}/${encodeURIComponent(this.#o.bucket)}/${k}`;
    return `${u.protocol}//${this.#o.bucket}.${u.host}${basePath}/${k}`;
  }

  async #request(
    key: string,
    init: RequestInit & { headers?: Record<string, string> },
    timeoutMs: number,
    withPrefix = true,
  ): Promise<Response> {
    // The deadline covers the answer's headers only: a body that is still flowing is never cut (a 1 GiB object
    // takes longer than any request deadline); a body that stalls is failed by idleGuard / the cache fill.
    const deadline = new AbortController();
    const signal = deadline.signal;
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const creds = await this.#creds.get();
    const url = this.url(key, withPrefix);
    try {
      if (!creds) return await fetch(url, { ...init, signal });
      if (this.#client?.creds !== creds) {
        this.#client = { creds, aws: new this.#Aws({ ...creds, service: 's3', region: this.#o.region, retries: 0 }) };
      }
      const signed = await this.#client.aws.sign(url, init);
      return await fetch(signed, { signal });
    } catch (err) {
      const why = signal.aborted ? `no answer within ${timeoutMs} ms` : describe(err);
      throw new PxeError(
        'PXE_ERR_FILE_SOURCE',
        `S3 ${init.method ?? 'GET'} s3://${this.#o.bucket}/${this.#o.prefix}${key}: ${why}`,
        {
          cause: err,
          fix: 'check that the S3 endpoint is reachable and the credentials are valid',
          details: { bucket: this.#o.bucket, key },
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * HEAD of the bucket itself (readiness check): its HTTP status — 200 there and readable, 404 no such
   * bucket, 403 not allowed, 301 another region. Throws PxeError when the store does not answer.
   */
  async probeBucket(timeoutMs = this.#o.timeoutMs): Promise<number> {
    const r = await this.#request('', { method: 'HEAD' }, timeoutMs, false);
    return r.status;
  }

  /** Size, ETag and mtime of an object; undefined when it does not exist. Throws PxeError otherwise. */
  async head(key: string, timeoutMs = this.#o.timeoutMs): Promise<S3Head | undefined> {
    const r = await this.#request(key, { method: 'HEAD' }, timeoutMs);
    if (r.status === 404) return undefined;
    if (!r.ok) throw this.#httpError('HEAD', key, r.status);
    const size = Number(r.headers.get('content-length'));
    if (!Number.isSafeInteger(size) || size < 0)
      throw new PxeError('PXE_ERR_FILE_SOURCE', `S3 HEAD ${key}: no usable Content-Length`);
    const raw = r.headers.get('etag') ?? '';
    const lm = r.headers.get('last-modified');
    const mtime = lm ? new Date(lm) : undefined;
    return {
      size,
      etag: raw.startsWith('"') || raw.startsWith('W/') ? raw : `"${raw}"`,
      ...(mtime && !Number.isNaN(mtime.getTime()) ? { mtime } : {}),
    };
  }

  /**
   * Streams an inclusive range of an object. `If-Match` pins the version announced by HEAD: an object
   * replaced in between gives a clean error instead of bytes of another file.
   */
  async get(key: string, range: ByteRange, etag: string): Promise<Readable> {
    const headers: Record<string, string> = { range: `bytes=${range.start}-${range.end}` };
    if (etag && !etag.startsWith('W/')) headers['if-match'] = etag;
    const r = await this.#request(key, { method: 'GET', headers }, this.#o.timeoutMs);
    if (r.status !== 206 && r.status !== 200) {
      await r.body?.cancel().catch(() => undefined);
      throw this.#httpError('GET', key, r.status);
    }
    if (!r.body) throw new PxeError('PXE_ERR_FILE_SOURCE', `S3 GET ${key}: empty body`);
    const body = Readable.fromWeb(r.body as WebReadableStream<Uint8Array>);
    if (r.status === 200 && (range.start !== 0 || Number(r.headers.get('content-length')) !== range.end + 1)) {
      // A store that ignored Range: never hand out the wrong bytes.
      body.destroy();
      throw new PxeError('PXE_ERR_FILE_SOURCE', `S3 GET ${key}: the store ignored the Range header`);
    }
    return idleGuard(body, this.#o.timeoutMs);
  }

  #httpError(method: string, key: string, status: number): PxeError {
    const fix =
      status === 403
        ? 'the credentials are missing or not allowed to read this bucket'
        : status === 412
          ? 'the object changed while being read; retry'
          : "see the S3 store's logs";
    return new PxeError(
      'PXE_ERR_FILE_SOURCE',
      `S3 ${method} s3://${this.#o.bucket}/${this.#o.prefix}${key}: HTTP ${status}`,
      { fix, details: { status, key } },
    );
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code
    ? `${err.message} (${cause.code})`
    : cause?.message
      ? `${err.message}: ${cause.message}`
      : err.message;
}

/**
 * Fails a body stream that stops delivering while its reader is waiting for data (a store that hangs
 * mid-object). A reader that is slow itself (a TFTP client losing ACKs) fills the buffer and is never blamed.
 */
export function idleGuard(body: Readable, ms: number): Readable {
  let got = 0;
  let last = 0;
  const timer = setInterval(() => {
    const hungry = body.readableLength < body.readableHighWaterMark && !body.isPaused();
    if (got === last && hungry && body.readableFlowing !== false) {
      body.destroy(new PxeError('PXE_ERR_FILE_SOURCE', `S3 body stalled: no data for ${ms} ms`));
    }
    last = got;
  }, ms);
  timer.unref();
  // Count what the store delivers without attaching a 'data' listener (that would switch the stream to flowing).
  const push = body.push.bind(body);
  body.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk) got += (chunk as Uint8Array).length;
    return push(chunk, encoding);
  };
  body.once('close', () => clearInterval(timer));
  return body;
}
