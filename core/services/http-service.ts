import { createHttpHooks, type HttpHooks } from '../hooks/http.js';
import type { ListeningAddress } from '../hooks/server.js';
import { createRequestHandler } from '../http/handler.js';
import { injectHttp, type HttpInjectRequest, type HttpInjectResponse } from '../http/inject.js';
import { HttpListener } from '../http/listener.js';
import { ipv6ListenAddress } from './listen6.js';
import type { ProtocolService, ServiceHost } from './types.js';

export type { HttpInjectRequest, HttpInjectResponse };

/** The HTTP side of the server: owns server.http.hooks and the HTTP listener (core/http/). */
export class HttpService implements ProtocolService {
  readonly hooks: HttpHooks;
  readonly #server: ServiceHost;
  #listener: HttpListener | undefined;
  #started = false;

  constructor(server: ServiceHost) {
    this.#server = server;
    this.hooks = createHttpHooks(server.runner);
    // Registered before any plugin taps, so every script tap is attributed to its plugin.
  }

  /** The http.Server and handler, made on first use (start, or inject on a server that was never started). */
  get #http(): HttpListener {
    if (!this.#listener) {
      const log = this.#server.log.child({ protocol: 'http' });
      const handler = createRequestHandler({ server: this.#server, hooks: this.hooks, log });
      const cfg = this.#server.config.http;
      const address6 = ipv6ListenAddress(this.#server.config, cfg);
      this.#listener = new HttpListener({ ...cfg, ...(address6 !== undefined ? { address6 } : {}) }, handler, log);
    }
    return this.#listener;
  }

  /**
   * Binds `config.http.port` (0 = ephemeral) on `address` and `address6` (set, or `::` while DHCPv6 runs);
   * nothing when `config.http.enabled` is false.
   */
  async start(): Promise<ListeningAddress[]> {
    if (!this.#server.config.http.enabled) return [];
    const bound = await this.#http.listen();
    this.#started = true;
    return bound;
  }

  /**
   * Runs one request through the same parser and handler as the listener, over an in-memory
   * connection (works whether or not the listener is bound). `path` is the raw request target.
   */
  async inject(req: HttpInjectRequest): Promise<HttpInjectResponse> {
    return injectHttp(this.#http, req);
  }

  /** Stop accepting, close idle keep-alive connections, give in-flight responses `graceMs`, then cut the rest. */
  async close(graceMs: number): Promise<void> {
    if (!this.#listener) return;
    await this.#listener.close(graceMs);
    this.#started = false;
  }

  /** True between start() and close(). */
  get listening(): boolean {
    return this.#started;
  }
}
