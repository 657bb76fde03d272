import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { listenError } from '../errors.js';

export type SideHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

/**
 * A tiny node:http listener of its own (metrics or status on a port apart from the boot listener):
 * started in `ready`, closed in `close`. Unhandled paths get 404; a handler that throws gets 500.
 */
export class SideListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(
    readonly what: string,
    handler: SideHandler,
    log: Logger,
  ) {
    this.#server = createServer({ requireHostHeader: false }, (req, res) => {
      let path = '/';
      try {
        path = new URL(req.url ?? '/', 'http://x').pathname;
      } catch {
        /* keep "/" */
      }
      handler(req, res, path).then(
        (handled) => {
          if (!handled && !res.headersSent) {
            res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
          }
        },
        (err: unknown) => {
          log.error({ event: `${what}.request.error`, err, path }, `${what}: request failed`);
          if (!res.headersSent)
            res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('internal error\n');
          else res.destroy();
        },
      );
    });
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 10_000;
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
  }

  /** The bound port (0 before listen). */
  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async listen(port: number, host: string): Promise<{ address: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, `${this.what} listener`, port, host));
      this.#server.once('error', onError);
      this.#server.listen({ port, host }, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const a = this.#server.address();
    return typeof a === 'object' && a ? { address: a.address, port: a.port } : { address: host, port };
  }

  /** Stops listening and cuts every connection (SSE streams would otherwise hold it open). */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}
