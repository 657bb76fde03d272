import { createHttpHooks, type HttpHooks } from '../hooks/http.js';
import type { ListeningAddress } from '../hooks/server.js';
import type { PxeServer } from '../server.js';
import type { ProtocolService } from './types.js';
import { PxeError } from '../errors.js';

/** The HTTP side of the server: owns server.http.hooks and the HTTP listener. */
export class HttpService implements ProtocolService {
  readonly hooks: HttpHooks;
  readonly #server: PxeServer;

  constructor(server: PxeServer) {
    this.#server = server;
    this.hooks = createHttpHooks(server.runner);
  }

  async start(): Promise<ListeningAddress[]> {
    void this.#server;
    return [];
  }

  /** Drive this protocol without sockets (filled in with the listener). */
  async inject(...args: unknown[]): Promise<unknown> {
    void args;
    throw new PxeError('PXE_ERR_SERVER_STATE', 'inject is not available for this protocol yet');
  }

  async close(graceMs: number): Promise<void> {
    void graceMs;
  }
}
