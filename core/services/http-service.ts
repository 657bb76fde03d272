import type { Logger } from 'pino';
import { createHttpHooks, type HttpHooks } from '../hooks/http.js';
import type { ListeningAddress } from '../hooks/server.js';
import { createRequestHandler, type RequestHandler } from '../http/handler.js';
import { injectHttp, type HttpInjectRequest, type HttpInjectResponse } from '../http/inject.js';
import { HttpListener } from '../http/listener.js';
import { prepareKernelSend } from '../http/send-kernel.js';
import { raceTimer } from '../util/race-timer.js';
import { ipv6ListenAddress } from './listen6.js';
import type { ProtocolService, ServiceHost } from './types.js';

export type { HttpInjectRequest, HttpInjectResponse };

/** The HTTP side of the server: owns server.http.hooks and the HTTP listener (core/http/). */
export class HttpService implements ProtocolService {
  readonly hooks: HttpHooks;
  readonly #server: ServiceHost;
  #listener: HttpListener | undefined;
  #started = false;
  /** Requests this service's handler is answering now (a reload waits for them before closing plugins). */
  #inFlight = 0;
  #drainWaiters: (() => void)[] = [];

  constructor(server: ServiceHost) {
    this.#server = server;
    this.hooks = createHttpHooks(server.runner);
    // Registered before any plugin taps, so every script tap is attributed to its plugin.
  }

  /** The http.Server and handler, made on first use (start, or inject on a server that was never started). */
  get #http(): HttpListener {
    if (!this.#listener) {
      const log = this.#server.log.child({ protocol: 'http' });
      const cfg = this.#server.config.http;
      const address6 = ipv6ListenAddress(this.#server.config, cfg, 'http');
      this.#listener = new HttpListener(
        { ...cfg, ...(address6 !== undefined ? { address6 } : {}) },
        this.#handler(log),
        log,
      );
    }
    return this.#listener;
  }

  /** This service's request flow (hooks, files), counting the requests it is answering. */
  #handler(log: Logger): RequestHandler {
    const handle = createRequestHandler({ server: this.#server, hooks: this.hooks, log });
    const settle = () => {
      if (--this.#inFlight === 0) for (const done of this.#drainWaiters.splice(0)) done();
    };
    const counted = (...[req, res]: Parameters<RequestHandler>): Promise<void> => {
      this.#inFlight++;
      const out = handle(req, res);
      out.then(settle, settle);
      return out;
    };
    return Object.assign(counted, { servesLean: handle.servesLean });
  }

  /**
   * Takes over the listener of `prev` (the server this one replaces on a config reload): requests from
   * now on, on new and kept-alive connections, go through this service's hooks; responses `prev` is
   * sending finish there (`prev.drained()`).
   */
  adopt(prev: HttpService): void {
    const listener = prev.#listener;
    if (!listener || !prev.#started) return;
    listener.retune(this.#server.config.http);
    listener.useHandler(this.#handler(this.#server.log.child({ protocol: 'http' })));
    prev.#listener = undefined;
    prev.#started = false;
    this.#listener = listener;
    this.#started = true;
    this.#noteUnlimitedTaps(); // the new config's plugins, as at start
  }

  /** Settles when no request is being answered by this service's handler. */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((done) => this.#drainWaiters.push(done));
  }

  /**
   * Binds `config.http.port` (0 = ephemeral) on `address` and `address6` (set, or `::` while DHCPv6 runs);
   * nothing when `config.http.enabled` is false.
   */
  async start(): Promise<ListeningAddress[]> {
    if (!this.#server.config.http.enabled) return [];
    const bound = await this.#http.listen();
    this.#started = true;
    this.#noteUnlimitedTaps();
    this.#prepareSendfile();
    return bound;
  }

  /** Starts the sendfile thread with the listener, so a failure is one warning at start, not one per download. */
  #prepareSendfile(): void {
    const failure = prepareKernelSend();
    if (failure === undefined) return;
    this.#server.log.warn(
      { event: 'http.sendfile.unavailable', reason: failure },
      `${failure}: file bodies are read and written through node instead (correct, more CPU per byte); ` +
        'check the process and thread limits (ulimit -u, systemd TasksMax), or set PXEKIT_SENDFILE=0 to silence this',
    );
  }

  /**
   * One line per `request`/`script` tap that gives no `paths` (HttpTapOptions), at start and after a reload:
   * it is called for every request, so every request goes through node:http. It names the tap, so an
   * operator knows which plugin it is, and its author what to change.
   */
  #noteUnlimitedTaps(): void {
    for (const [hook, h] of [
      ['http.request', this.hooks.request],
      ['http.script', this.hooks.script],
    ] as const) {
      for (const tap of h.taps as ReadonlyArray<{ name: string; paths?: unknown }>) {
        if (tap.paths !== undefined) continue;
        this.#server.log.info(
          { event: 'http.tap.unlimited', hook, tap: tap.name },
          `plugin ${tap.name} taps ${hook} for every path, so all HTTP requests go through node:http, not the lean path ` +
            '(works, costs more CPU per request; its author can give the tap `paths`: docs/hooks.md)',
        );
      }
    }
  }

  /**
   * Runs one request through the same parser and handler as the listener, over an in-memory
   * connection (works whether or not the listener is bound). `path` is the raw request target.
   */
  async inject(req: HttpInjectRequest): Promise<HttpInjectResponse> {
    return injectHttp(this.#http, req);
  }

  /**
   * Stop accepting, close idle keep-alive connections, give in-flight responses `graceMs`, then cut the rest;
   * resolves once every request's flow has ended too (its access line written after its response closed),
   * so nothing is logged after the server says it closed.
   */
  async close(graceMs: number): Promise<void> {
    if (!this.#listener) return;
    await this.#listener.close(graceMs);
    await raceTimer(this.drained(), graceMs, () => undefined);
    this.#started = false;
  }

  /** True between start() and close(). */
  get listening(): boolean {
    return this.#started;
  }
}
