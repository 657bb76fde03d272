/**
 * The lean HTTP/1.1 path: one TCP connection whose plain file requests are served without node:http.
 *
 * Why: a boot storm is hundreds of connections each asking for a kernel and an initrd, and node:http's
 * per-connection and per-request JavaScript (parser bindings, IncomingMessage, ServerResponse, header
 * objects, timers) cost about as much CPU as everything else pxekit does for those requests. Here a request
 * head is read with one indexOf and a few regular expressions (lean-head.ts), answered through the same
 * handler flow as node's requests (handler.ts on exchange.ts's interface), and written with one socket
 * write (lean-response.ts) before the body goes by sendfile.
 *
 * What it serves: GET/HEAD heads lean-head.ts accepts that no `request` or `script` tap wants. A head it
 * reads that a tap wants (the tap needs node's req/res) is answered by node:http over a stand-in socket, and
 * the connection then goes on here (node-exchange.ts). Anything else — another method, a body,
 * Expect/Upgrade, a malformed or over-long head — is handed to node:http at that request boundary: the
 * unread bytes go back into the socket (unshift) and node:http takes the connection as if it had just been
 * accepted, so every unusual case keeps node's exact answer. Requests the lean path answered before stay
 * answered.
 *
 * Kept as node:http does: keep-alive (HTTP/1.1 by default, HTTP/1.0 on request, Connection: close
 * honoured), pipelined requests answered in order, the server's idle bound while a response is out
 * (`idleMs`, re-armed by sendfile progress), the keep-alive bound between requests, the headers bound from
 * a head's first byte (the listener checks it, like node's connections checker; a half head then silence
 * gets node's 408), socket errors and a half-closed partial head reported as node reports them (clientError).
 */
import type { Socket } from 'node:net';
import type { HttpRequestLike } from './exchange.js';
import { LEAN_HEAD_MAX, parseLeanHead, type LeanHead } from './lean-head.js';
import { LeanResponse, type LeanResponseOwner } from './lean-response.js';
import { ExchangeSocket, type ExchangeEnd } from './node-exchange.js';

/** What the connection needs from the listener. */
export interface LeanHost {
  /** No hook needs node's req/res for this request target (handler.ts servesLean). */
  servesLean(url: string): boolean;
  /** Run the request flow (the listener counts it in flight). */
  request(req: HttpRequestLike, res: LeanResponse): void;
  /** Give the socket to node:http (its unread bytes are back in it). */
  handOver(socket: Socket): void;
  /** Give node:http a stand-in socket for one request (node-exchange.ts); the connection stays here. */
  exchange(socket: ExchangeSocket): void;
  /** As node:http's 'clientError': a socket error, a broken or timed-out head. */
  clientError(err: NodeJS.ErrnoException, socket: Socket): void;
  /** A response went out on `socket` (its head may not be in socket.bytesWritten: sendfile sent it). */
  answered(socket: Socket): void;
  /** The connection is gone or handed over. */
  forget(conn: LeanConnection): void;
  readonly keepAliveTimeoutMs: number;
  /** node:http's server.timeout: inactivity bound on a connection with a response out. */
  readonly idleMs: number;
}

/** node's HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER: the socket outlives the advertised keep-alive by this. */
const KEEP_ALIVE_SLACK_MS = 1000;
const CRLFCRLF = Buffer.from('\r\n\r\n');

let served = 0;
let handedOver = 0;
let viaNode = 0;

/**
 * Requests the lean path took, connections it handed to node:http, and requests it had node:http answer
 * for a hook tap (the connection staying lean), since the process started (tests).
 */
export function leanCounts(): { served: number; handedOver: number; viaNode: number } {
  return { served, handedOver, viaNode };
}

/** One request on the lean path: what the handler reads of it. */
interface LeanRequest extends HttpRequestLike {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
}

export class LeanConnection implements LeanResponseOwner {
  readonly socket: Socket;
  readonly #host: LeanHost;
  /** Bytes received and not yet taken as a request. */
  #buf: Buffer | undefined;
  #res: LeanResponse | undefined;
  /** A request node:http is answering for a hook tap (node-exchange.ts). */
  #exchange: ExchangeSocket | undefined;
  /** The client half-closed during an exchange: end once it is out. */
  #endAfterExchange = false;
  #head: LeanHead | undefined;
  #gone = false;
  #paused = false;
  /** When the head being waited for began (its first byte; the accept for the first one); 0 when none. */
  headStart: number;
  /** Requests answered; an idle connection after one is what a server close drops at once. */
  served = 0;

  constructor(socket: Socket, host: LeanHost) {
    this.socket = socket;
    this.#host = host;
    this.headStart = performance.now();
    socket.setTimeout(host.idleMs);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('timeout', this.#onTimeout);
    socket.on('drain', this.#onDrain);
    socket.on('close', this.#onClose);
  }

  get keepAlive(): boolean {
    return this.#head!.keepAlive;
  }
  get http11(): boolean {
    return this.#head!.httpVersion === '1.1';
  }
  get isHead(): boolean {
    return this.#head!.method === 'HEAD';
  }
  get keepAliveTimeoutMs(): number {
    return this.#host.keepAliveTimeoutMs;
  }

  /** Between requests with nothing half-received (what a server close may drop at once). */
  get idle(): boolean {
    return !this.#gone && this.#res === undefined && this.#exchange === undefined && this.#buf === undefined;
  }

  /** The headers bound passed while a head was still incomplete: node's 408 (or a cut, after a response). */
  headTimedOut(): void {
    if (this.#gone) return;
    this.#detach();
    this.#host.clientError(
      Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
      this.socket,
    );
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#buf = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    if (this.#res === undefined && this.#exchange === undefined) this.#next();
    else if (this.#buf.length > 2 * LEAN_HEAD_MAX && !this.#paused) {
      // Pipelined requests pile up behind a response: stop reading until it is out (as node does).
      this.#paused = true;
      this.socket.pause();
    }
  };

  /** Takes the next request out of the buffer, if a whole head is there. */
  #next(): void {
    const buf = this.#buf;
    if (this.#gone || this.#res !== undefined || this.#exchange !== undefined || buf === undefined) return;
    if (this.headStart === 0) {
      this.headStart = performance.now();
      this.socket.setTimeout(this.#host.idleMs);
    }
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > LEAN_HEAD_MAX) this.#handOver();
      return;
    }
    const head = end <= LEAN_HEAD_MAX ? parseLeanHead(buf.toString('latin1', 0, end)) : undefined;
    if (!head) {
      this.#handOver();
      return;
    }
    this.#buf = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
    this.headStart = 0;
    if (!this.#host.servesLean(head.url)) {
      this.#viaNode(buf.subarray(0, end + 4));
      return;
    }
    this.#head = head;
    const req: LeanRequest = {
      method: head.method,
      url: head.url,
      httpVersion: head.httpVersion,
      headers: head.headers,
      socket: this.socket,
    };
    const res = new LeanResponse(this.socket, this);
    this.#res = res;
    served++;
    if (this.served === 0) this.#host.answered(this.socket);
    this.#host.request(req, res);
  }

  /** LeanResponseOwner: the response is out; go on with the next request, or end the connection. */
  responseDone(res: LeanResponse): void {
    if (this.#res !== res) return;
    this.#res = undefined;
    this.served++;
    if (res.last) {
      this.#detach();
      this.socket.end();
      return;
    }
    this.#goOn();
  }

  /** A response is out and the connection stays: read on, and take the next request or wait for it. */
  #goOn(): void {
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    if (this.#buf === undefined) this.socket.setTimeout(this.#host.keepAliveTimeoutMs + KEEP_ALIVE_SLACK_MS);
    else this.#next();
  }

  /** node:http answers this one request (a hook tap wants it) on a stand-in socket; then we go on. */
  #viaNode(head: Buffer): void {
    viaNode++;
    const ex = new ExchangeSocket(this.socket, (how) => this.#exchangeDone(ex, how));
    this.#exchange = ex;
    if (this.served === 0) this.#host.answered(this.socket);
    this.#host.exchange(ex);
    ex.feed(head);
  }

  #exchangeDone(ex: ExchangeSocket, how: ExchangeEnd): void {
    if (this.#exchange !== ex || this.#gone) return;
    this.#exchange = undefined;
    this.served++;
    if (how !== 'keep' || this.#endAfterExchange) {
      this.#detach();
      if (how === 'destroy') this.socket.destroy();
      else this.socket.end();
      return;
    }
    this.#goOn();
  }

  /** node:http takes the connection at this request boundary, unread bytes first. */
  #handOver(): void {
    const buf = this.#buf;
    this.#buf = undefined;
    this.#detach();
    handedOver++;
    this.socket.pause();
    this.socket.setTimeout(0);
    if (buf) this.socket.unshift(buf);
    this.#host.handOver(this.socket);
    this.socket.resume();
  }

  /** Stops listening to the socket (it is handed over, ending, or closed). */
  #detach(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.headStart = 0;
    const s = this.socket;
    s.off('data', this.#onData);
    s.off('end', this.#onEnd);
    s.off('error', this.#onError);
    s.off('timeout', this.#onTimeout);
    s.off('drain', this.#onDrain);
    s.off('close', this.#onClose);
    // Errors after we let go (a reset while our last bytes drain) must not crash the process.
    if (s.listenerCount('error') === 0) s.on('error', () => undefined);
    this.#host.forget(this);
  }

  // The client half-closed: a partial head is node's "incomplete request" (400); otherwise we end too
  // (node's httpAllowHalfOpen is false), after what is queued.
  readonly #onEnd = (): void => {
    if (this.#gone) return;
    if (this.#exchange) {
      // node:http sees the end on its socket and does what it does (aborts the request, ends the connection).
      this.#endAfterExchange = true;
      this.#exchange.clientEnded();
      return;
    }
    const partial = this.#res === undefined && this.#buf !== undefined;
    this.#detach();
    this.#res?.close();
    if (partial)
      this.#host.clientError(
        Object.assign(new Error('Parse Error: incomplete request'), { code: 'HPE_INVALID_EOF_STATE' }),
        this.socket,
      );
    else this.socket.end();
  };

  readonly #onError = (err: Error): void => {
    this.#host.clientError(err as NodeJS.ErrnoException, this.socket);
  };

  // Inactivity (no response progress, or keep-alive idle): node destroys the socket.
  readonly #onTimeout = (): void => {
    this.socket.destroy();
  };

  readonly #onDrain = (): void => {
    this.#res?.emit('drain');
  };

  readonly #onClose = (): void => {
    const res = this.#res;
    const ex = this.#exchange;
    this.#res = undefined;
    this.#exchange = undefined;
    this.#detach();
    res?.close();
    ex?.abort();
  };
}
