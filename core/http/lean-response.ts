/**
 * The lean path's response (lean-connection.ts): the part of node's ServerResponse the file flow uses
 * (exchange.ts), writing straight to the socket. The head is what node writes for the same call: the
 * status line, the headers in the order given, `Date`, then `Connection: keep-alive` + `Keep-Alive:
 * timeout=N` or `Connection: close` (node's _storeHeader rules). Events as node's: 'finish' once every
 * byte was handed to the socket after end(), then 'close' (also when the connection goes first); 'drain'
 * from the socket.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpResponseLike } from './exchange.js';

/** What the response needs to know of its request and connection. */
export interface LeanResponseOwner {
  readonly keepAlive: boolean;
  readonly http11: boolean;
  readonly isHead: boolean;
  readonly keepAliveTimeoutMs: number;
  /** Every byte is out (after 'finish'): the connection goes on with the next request, or ends. */
  responseDone(res: LeanResponse): void;
}

const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

let dateSecond = -1;
let dateText = '';

/** node's utcDate(): the Date header, formatted once per second. */
function utcDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

export class LeanResponse extends EventEmitter implements HttpResponseLike {
  statusCode = 200;
  writableFinished = false;
  readonly lean = true;
  /** The connection ends after this response (Connection: close). */
  last = false;
  #socket: Socket | null;
  readonly #owner: LeanResponseOwner;
  #head: string | undefined;
  #headWritten = false;
  #contentLength: number | undefined;
  #hasBody: boolean;
  #ended = false;
  /** Socket writes not yet called back. */
  #pending = 0;
  #closed = false;

  constructor(socket: Socket, owner: LeanResponseOwner) {
    super();
    this.#socket = socket;
    this.#owner = owner;
    this.#hasBody = !owner.isHead;
  }

  get socket(): Socket | null {
    return this.#socket;
  }

  get headersSent(): boolean {
    return this.#head !== undefined;
  }

  get destroyed(): boolean {
    return this.#closed || (this.#socket?.destroyed ?? true);
  }

  getHeader(name: string): number | undefined {
    return name.toLowerCase() === 'content-length' ? this.#contentLength : undefined;
  }

  writeHead(status: number, headers: Record<string, string | number>): this {
    if (this.#head !== undefined) throw new Error('writeHead: headers already sent');
    this.statusCode = status;
    if (status === 204 || status === 304) this.#hasBody = false;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (const name in headers) {
      const value = String(headers[name]);
      if (INVALID_HEADER_CHAR.test(value))
        throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), {
          code: 'ERR_INVALID_CHAR',
        });
      if (name.length === 14 && name.toLowerCase() === 'content-length') this.#contentLength = Number(value);
      head += `${name}: ${value}\r\n`;
    }
    head += `Date: ${utcDate()}\r\n`;
    // node: keep-alive needs a framed body (Content-Length, or chunked, which only HTTP/1.1 may use).
    const owner = this.#owner;
    if (owner.keepAlive && (this.#contentLength !== undefined || owner.http11)) {
      head += 'Connection: keep-alive\r\n';
      if (owner.keepAliveTimeoutMs) head += `Keep-Alive: timeout=${Math.floor(owner.keepAliveTimeoutMs / 1000)}\r\n`;
    } else {
      this.last = true;
      head += 'Connection: close\r\n';
    }
    // Every answer of the file flow has a Content-Length or no body; anything else would need chunking.
    if (this.#contentLength === undefined && this.#hasBody) this.last = true;
    this.#head = `${head}\r\n`;
    return this;
  }

  flushHeaders(): void {
    if (this.#head === undefined) this.writeHead(this.statusCode, {});
    if (!this.#headWritten) this.#send(undefined, undefined);
  }

  write(chunk: Buffer, cb?: () => void): boolean {
    if (this.#head === undefined) this.writeHead(this.statusCode, {});
    if (!this.#hasBody) {
      if (cb) process.nextTick(cb);
      return true;
    }
    return this.#send(chunk, cb);
  }

  end(chunk?: Buffer): this {
    if (this.#ended) return this;
    this.#ended = true;
    if (this.#head === undefined) this.writeHead(this.statusCode, {});
    if (!this.#headWritten || (chunk && chunk.length > 0 && this.#hasBody))
      this.#send(this.#hasBody ? chunk : undefined, undefined);
    // Nothing left in flight: done now (node defers this to a tick; every caller listens before end()).
    if (this.#pending === 0) this.#finish();
    return this;
  }

  takeHead(): Buffer | undefined {
    if (this.#head === undefined || this.#headWritten || !this.#socket || this.#socket.writableLength > 0)
      return undefined;
    this.#headWritten = true;
    return Buffer.from(this.#head, 'latin1');
  }

  destroy(): this {
    this.#socket?.destroy();
    return this;
  }

  /** The head (if not out yet) and `chunk` in one go (corked: one writev). */
  #send(chunk: Buffer | undefined, cb: (() => void) | undefined): boolean {
    const socket = this.#socket;
    if (!socket || socket.destroyed) return false;
    const done = () => {
      this.#pending--;
      cb?.();
      if (this.#ended && this.#pending === 0) this.#finish();
    };
    if (!this.#headWritten) {
      this.#headWritten = true;
      if (!chunk) {
        this.#pending++;
        return socket.write(this.#head!, 'latin1', done);
      }
      socket.cork();
      socket.write(this.#head!, 'latin1');
      this.#pending++;
      const ok = socket.write(chunk, done);
      socket.uncork();
      return ok;
    }
    if (!chunk) return true;
    this.#pending++;
    return socket.write(chunk, done);
  }

  #finish(): void {
    if (this.writableFinished || this.#closed || !this.#socket || this.#socket.destroyed) return;
    this.writableFinished = true;
    this.emit('finish');
    this.close();
    this.#owner.responseDone(this);
  }

  /** The response is over (done, or its connection went away): 'close', once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket = null;
    this.emit('close');
  }
}
