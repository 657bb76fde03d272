/**
 * The part of a request and a response the file-serving flow uses (handler.ts, serve-file.ts, respond.ts,
 * send-body.ts, send-kernel.ts). node:http's IncomingMessage/ServerResponse have it, and so have the lean
 * path's own objects (lean-connection.ts), so both run the same flow: a plain GET/HEAD on the lean path
 * and anything else through node:http.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined };
}

/** An EventEmitter: close, finish, drain and error are used. */
export interface HttpResponseLike extends EventEmitter {
  statusCode: number;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  /** The connection while the response has it (sendfile needs its descriptor); null once detached. */
  readonly socket: Socket | null;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  write(chunk: Buffer, cb: () => void): boolean;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  flushHeaders(): void;
  destroy(): unknown;
  getHeader(name: string): number | string | string[] | undefined;
  /**
   * The head, when it is not written yet, as bytes for the caller to send (the sendfile path sends it with
   * the body's first segment); it then counts as written. Only the lean path's response has it.
   */
  takeHead?(): Buffer | undefined;
  /** True on the lean path's response (lean-connection.ts): the access log says which path answered. */
  readonly lean?: boolean;
}
