import { createTftpHooks, type TftpHooks } from '../hooks/tftp.js';
import type { ListeningAddress } from '../hooks/server.js';
import type { PxeServer } from '../server.js';
import type { ProtocolService } from './types.js';
import { PxeError } from '../errors.js';

/** The TFTP side of the server: owns server.tftp.hooks and the TFTP listener. */
export class TftpService implements ProtocolService {
  readonly hooks: TftpHooks;
  readonly #server: PxeServer;

  constructor(server: PxeServer) {
    this.#server = server;
    this.hooks = createTftpHooks(server.runner);
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
