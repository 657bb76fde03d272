/**
 * Reads one HTTP/1.x request head for the lean path (lean-connection.ts), or declines it. It accepts only
 * what it fully understands, the plain file GET/HEAD a boot client sends: request line `GET|HEAD
 * /origin-form HTTP/1.0|1.1`, well-formed `name: value` lines, no body (no Transfer-Encoding, Content-Length
 * absent or 0), no Expect, no Upgrade. Anything else (another method, a body, obs-fold, a stray CR or LF, an
 * over-long head...) is `undefined`: the connection then goes to node:http, which answers it exactly as it
 * always did (405 from the handler, 400, 431...).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface LeanHead {
  method: 'GET' | 'HEAD';
  url: string;
  httpVersion: '1.0' | '1.1';
  /** Keep the connection after the response (HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive`). */
  keepAlive: boolean;
  /** Lowercased names, duplicates combined as node:http combines them. */
  headers: IncomingHttpHeaders;
}

/** The lean path takes heads up to this size; bigger ones go to node:http (its bound is 16 KiB, then 431). */
export const LEAN_HEAD_MAX = 8 * 1024;
/** More header lines than this: node:http's business (it caps at 2,000 and drops the rest). */
const MAX_LINES = 100;

const REQUEST_LINE = /^(GET|HEAD) (\/[\x21-\x7e]*) HTTP\/1\.([01])$/;
// RFC 9110 token name; value of visible ASCII, obs-text, space and tab (node's llhttp rejects other controls).
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*$/;

/** Headers node:http keeps the first of when repeated (node's matchKnownFields); others are joined with ', '. */
const FIRST_WINS = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

/** Parses `head` (latin1, without its final CRLFCRLF); undefined = not for the lean path. */
export function parseLeanHead(head: string): LeanHead | undefined {
  if (head.length > LEAN_HEAD_MAX) return undefined;
  const lines = head.split('\r\n');
  if (lines.length > MAX_LINES) return undefined;
  const first = REQUEST_LINE.exec(lines[0]!);
  if (!first) return undefined;
  const http11 = first[3] === '1';
  const headers: IncomingHttpHeaders = {};
  let connection = '';
  for (let i = 1; i < lines.length; i++) {
    const m = HEADER_LINE.exec(lines[i]!);
    if (!m) return undefined;
    const name = m[1]!.toLowerCase();
    const value = m[2]!;
    switch (name) {
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
      case 'set-cookie':
        return undefined;
      case 'content-length':
        if (value !== '0' || headers[name] !== undefined) return undefined;
        break;
      case 'connection':
        connection += `${connection ? ',' : ''}${value.toLowerCase()}`;
        break;
    }
    const had = headers[name] as string | undefined;
    if (had === undefined) headers[name] = value;
    else if (!FIRST_WINS.has(name)) headers[name] = `${had}, ${value}`;
  }
  let close = false;
  let keepAliveAsked = false;
  if (connection) {
    for (const token of connection.split(',')) {
      const t = token.trim();
      if (t === 'close') close = true;
      else if (t === 'keep-alive') keepAliveAsked = true;
      else if (t === 'upgrade') return undefined;
    }
  }
  const keepAlive = !close && (http11 || keepAliveAsked);
  return {
    method: first[1] as 'GET' | 'HEAD',
    url: first[2]!,
    httpVersion: http11 ? '1.1' : '1.0',
    keepAlive,
    headers,
  };
}
