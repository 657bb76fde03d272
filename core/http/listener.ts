import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { HttpConfig } from './config.js';
import type { HttpRequestLike, HttpResponseLike } from './exchange.js';
import type { RequestHandler } from './handler.js';
import { LeanConnection, type LeanHost } from './lean-connection.js';
import { ExchangeSocket } from './node-exchange.js';
import { listenError } from '../errors.js';
import type { ListeningAddress } from '../hooks/server.js';
import { raceTimer } from '../util/race-timer.js';

/** Request head bound (node's default, pinned so --max-http-header-size cannot raise it): over it, 431. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Socket inactivity bound: a client that stops reading mid-download is cut off after this. */
const IDLE_SOCKET_MS = 120_000;

/**
 * Owns the node:http server: keep-alive (EDK2 HttpBootDxe breaks on connection-close, edk2 #9714),
 * header/request timeouts from config (slowloris), node's 16 KiB header bound (431), a clientError
 * answer for malformed requests, in-flight tracking for a graceful close. The same http.Server
 * parses inject() requests from an in-memory socket, so both paths run identical code.
 *
 * Accepted connections start on the lean path (lean-connection.ts: plain file GET/HEAD without node:http's
 * per-request machinery), which hands a connection to the http.Server at the first request it does not
 * fully understand. PXEKIT_HTTP_LEAN=0 gives every connection to node:http from the start.
 */
export class HttpListener {
  readonly server: Server;
  readonly #config: HttpConfig;
  readonly #log: Logger;
  #inFlight = 0;
  #drained: Array<() => void> = [];
  #listening = false;
  #handler: RequestHandler;
  /** node:http's own connection listener (the lean path hands connections to it); undefined: lean path off. */
  readonly #nodeConnection: ((socket: Duplex) => void) | undefined;
  readonly #lean = new Set<LeanConnection>();
  /** Connections the lean path answered on: an error answer after that would follow a response, so none. */
  readonly #answered = new WeakSet<object>();
  readonly #leanHost: LeanHost;
  #headersTimeoutMs: number;
  #checkEvery: number;
  #leanChecker: NodeJS.Timeout | undefined;
  /** The IPv6 socket beside an IPv4 one (`address6`): it hands its connections to `server`. */
  #server6: NetServer | undefined;
  /** Per connection, the last request's whole flow (inject waits on it so its bookkeeping is visible). */
  readonly #lastDone = new WeakMap<object, Promise<void>>();

  constructor(config: HttpConfig, handler: RequestHandler, log: Logger) {
    this.#config = config;
    this.#handler = handler;
    this.#log = log;
    // Node checks header/request timeouts on this interval (default 30 s): tighten it so the bound holds.
    // No Host requirement: minimal firmware HTTP stacks are not strict HTTP/1.1 clients, and we serve one site.
    const checkEvery = Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4)));
    this.server = createServer(
      {
        keepAlive: true,
        connectionsCheckingInterval: checkEvery,
        maxHeaderSize: MAX_HEADER_BYTES,
        requireHostHeader: false,
      },
      (req, res) => {
        // A lean connection's request for a hook tap: the connection goes on once this response is out.
        if (req.socket instanceof ExchangeSocket) req.socket.watch(res);
        this.#track(req, res, this.#handler);
      },
    );
    this.#checkEvery = checkEvery;
    this.#headersTimeoutMs = config.headersTimeoutMs;
    this.retune(config);
    const listeners = this.server.listeners('connection');
    if (process.env.PXEKIT_HTTP_LEAN !== '0' && listeners.length === 1) {
      const nodeConnection = listeners[0] as (socket: Duplex) => void;
      this.#nodeConnection = (socket) => nodeConnection.call(this.server, socket);
      this.server.removeListener('connection', nodeConnection);
      this.server.on('connection', (socket: Socket) => this.#leanConnection(socket));
    }
    this.#leanHost = this.#makeLeanHost();
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(err, socket));
  }

  /**
   * Hands requests that arrive from now on (on new and kept-alive connections) to `handler` (a config
   * reload); requests already being answered finish in the handler they started in.
   */
  useHandler(handler: RequestHandler): void {
    this.#handler = handler;
  }

  /** Applies the timeouts of `config` to connections from now on (a config reload). */
  retune(config: Pick<HttpConfig, 'headersTimeoutMs' | 'keepAliveTimeoutMs'>): void {
    this.server.headersTimeout = config.headersTimeoutMs;
    // GET/HEAD carry no body, so the whole request must arrive as fast as its headers.
    this.server.requestTimeout = config.headersTimeoutMs;
    this.server.keepAliveTimeout = config.keepAliveTimeoutMs;
    this.server.timeout = Math.max(IDLE_SOCKET_MS, config.keepAliveTimeoutMs * 2);
    this.#headersTimeoutMs = config.headersTimeoutMs;
  }

  /**
   * Binds `config.port` (0 = ephemeral). Neither `address` nor `address6` (or `address6` `::` alone): one
   * dual-stack socket on all addresses. Otherwise `address` (default 0.0.0.0) and, when set, `address6` as
   * an IPv6-only socket on the same port whose connections go to the same http.Server.
   */
  async listen(): Promise<ListeningAddress[]> {
    const { port, address, address6 } = this.#config;
    const dualStack = !address && (address6 === undefined || address6 === '::');
    const host = dualStack ? undefined : (address ?? '0.0.0.0');
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, 'HTTP server', port, host));
      this.server.once('error', onError);
      this.server.listen({ port, ...(host ? { host } : {}) }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.#listening = true;
    this.server.on('error', (err) => this.#log.error({ event: 'http.error', err }, 'HTTP server error'));
    const bound = this.server.address();
    const first: ListeningAddress =
      bound === null || typeof bound === 'string'
        ? { protocol: 'http', address: host ?? '::', port }
        : { protocol: 'http', address: bound.address, port: bound.port };
    if (dualStack || address6 === undefined) return [first];
    try {
      return [first, await this.#listen6(address6, first.port)];
    } catch (err) {
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.#listening = false;
      throw err;
    }
  }

  async #listen6(address6: string, port: number): Promise<ListeningAddress> {
    // Same socket options as the http.Server's own listener (keep-alive, no Nagle).
    const server6 = createNetServer({ keepAlive: true, noDelay: true }, (socket) =>
      this.server.emit('connection', socket),
    );
    await new Promise<void>((resolve, reject) => {
      server6.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, 'HTTP server', port, address6)));
      server6.listen({ port, host: address6, ipv6Only: true }, () => resolve());
    });
    server6.removeAllListeners('error');
    server6.on('error', (err) => this.#log.error({ event: 'http.error', err }, 'HTTP server error (IPv6)'));
    this.#server6 = server6;
    const bound = server6.address();
    return { protocol: 'http', address: typeof bound === 'object' && bound ? bound.address : address6, port };
  }

  /** Hands an already-connected stream (inject's in-memory socket) to the HTTP parser. */
  accept(socket: Duplex): void {
    if (this.#nodeConnection) this.#nodeConnection(socket);
    else this.server.emit('connection', socket);
  }

  /** A new connection starts on the lean path (checked for its head bound with the others). */
  #leanConnection(socket: Socket): void {
    this.#lean.add(new LeanConnection(socket, this.#leanHost));
    this.#leanChecker ??= setInterval(() => this.#checkLeanHeads(), this.#checkEvery).unref();
  }

  /** node's connections checker for lean connections: a head not complete within headersTimeoutMs is cut (408). */
  #checkLeanHeads(): void {
    if (this.#lean.size === 0) {
      clearInterval(this.#leanChecker);
      this.#leanChecker = undefined;
      return;
    }
    const bound = this.#headersTimeoutMs;
    if (!bound) return;
    const now = performance.now();
    for (const conn of this.#lean) if (conn.headStart && now - conn.headStart > bound) conn.headTimedOut();
  }

  #makeLeanHost(): LeanHost {
    const server = this.server;
    return {
      servesLean: (url) => this.#handler.servesLean(url),
      request: (req, res) => this.#track(req, res, this.#handler),
      handOver: (socket) => this.#nodeConnection!(socket),
      exchange: (socket) => this.#nodeConnection!(socket),
      clientError: (err, socket) => this.#clientError(err, socket),
      answered: (socket) => this.#answered.add(socket),
      forget: (conn) => this.#lean.delete(conn),
      get keepAliveTimeoutMs() {
        return server.keepAliveTimeout;
      },
      get idleMs() {
        return server.timeout;
      },
    };
  }

  /**
   * Stop accepting, drop idle keep-alive connections, give in-flight responses up to `graceMs`, then
   * cut whatever is left.
   */
  async close(graceMs: number): Promise<void> {
    const closed = this.#listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    const server6 = this.#server6;
    this.#server6 = undefined;
    const closed6 = server6 ? new Promise<void>((resolve) => server6.close(() => resolve())) : Promise.resolve();
    this.server.closeIdleConnections();
    for (const conn of this.#lean) if (conn.idle && conn.served > 0) conn.socket.destroy();
    if (this.#inFlight > 0) {
      await raceTimer(new Promise<void>((resolve) => this.#drained.push(resolve)), graceMs, () => undefined);
      if (this.#inFlight > 0)
        this.#log.warn(
          { event: 'http.close.cut', inFlight: this.#inFlight, graceMs },
          'closing HTTP with responses still in flight',
        );
    }
    this.server.closeAllConnections();
    for (const conn of this.#lean) conn.socket.destroy();
    clearInterval(this.#leanChecker);
    this.#leanChecker = undefined;
    await Promise.all([closed, closed6]);
    this.#listening = false;
  }

  #track(req: HttpRequestLike, res: HttpResponseLike, handler: RequestHandler): void {
    this.#inFlight++;
    res.once('close', () => {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const done of this.#drained.splice(0)) done();
    });
    this.#lastDone.set(req.socket, handler(req, res));
  }

  /** Settles when the last request seen on `socket` was fully handled (events emitted, line logged). */
  settled(socket: object): Promise<void> {
    return this.#lastDone.get(socket) ?? Promise.resolve();
  }

  /**
   * A request node could not parse (bad syntax 400, headers over 16 KiB 431, too slow 408): answer
   * like node would, but logged, and never crash.
   */
  #clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const code = err.code ?? 'UNKNOWN';
    const sock = socket as Socket;
    if (code !== 'ECONNRESET' && code !== 'EPIPE') {
      this.#log.debug(
        { event: 'http.client.error', code, client: sock.remoteAddress, err: err.message },
        'malformed or slow HTTP request',
      );
    }
    if (socket.writable && (sock.bytesWritten ?? 0) === 0 && !this.#answered.has(socket)) {
      const status =
        code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      // A peer that never reads must not keep the socket: the answer gets a moment, then it goes.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
  }
}
