import type { HttpResponseLike } from './exchange.js';
import { STATUS_CODES } from 'node:http';

/**
 * Sends a complete, small response with Content-Length (UEFI HTTP boot needs it on every answer).
 * HEAD gets the same headers and no body. Returns the body bytes sent.
 */
export function sendBody(
  res: HttpResponseLike,
  method: string,
  status: number,
  headers: Record<string, string | number>,
  body: string | Buffer = '',
): number {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  res.writeHead(status, { ...headers, 'Content-Length': buf.length });
  if (method === 'HEAD' || status === 304 || status === 204) {
    res.end();
    return 0;
  }
  res.end(buf);
  return buf.length;
}

/** A short plain-text error page (`404 Not Found`), with extra headers such as `Allow`. */
export function sendStatus(
  res: HttpResponseLike,
  method: string,
  status: number,
  headers: Record<string, string> = {},
): number {
  const text = `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
  return sendBody(
    res,
    method,
    status,
    { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
    text,
  );
}
