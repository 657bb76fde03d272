/**
 * One request of a lean connection answered by node:http, without giving node the connection.
 *
 * Why: a request a plugin's `request` or `script` tap wants (a per-host iPXE script, /metrics) needs node's
 * `req`/`res` in the hook context. Handing the whole connection to node:http for it (as for requests the lean
 * path cannot read) would send everything after it through node too, and keep-alive clients fetch the kernel
 * and initrd on the connection that fetched the script (iPXE does). Here node's parser reads the head from a
 * stand-in socket whose writes go to the real one; once the response is out, the lean path goes on with the
 * connection (node:http closing it, or the response failing, ends or cuts the real connection as node would).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { StandInSocket } from './stand-in-socket.js';

/** How the exchange ended: node keeps the connection open, ends it (Connection: close), or cut it. */
export type ExchangeEnd = 'keep' | 'end' | 'destroy';

/** The socket node:http sees: the real connection's addresses, writes passed through, reads fed once. */
export class ExchangeSocket extends StandInSocket {
  readonly #real: Socket;
  readonly #done: (how: ExchangeEnd) => void;
  #released = false;
  #ended = false;
  #written = 0;

  constructor(real: Socket, done: (how: ExchangeEnd) => void) {
    super();
    this.#real = real;
    this.#done = done;
  }

  get remoteAddress(): string | undefined {
    return this.#real.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#real.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.#real.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.#real.localAddress;
  }
  get localPort(): number | undefined {
    return this.#real.localPort;
  }
  get bytesWritten(): number {
    return this.#written;
  }

  /** The request head (the lean path read it whole; a GET/HEAD has no body). */
  feed(head: Buffer): void {
    this.push(head);
  }

  /**
   * The listener saw node's response for this socket: when it closes, node has finished with the request
   * (and, with `Connection: close`, ended this socket already: see _final).
   */
  watch(res: ServerResponse): void {
    res.once('close', () => {
      if (this.#released) return;
      this.#release(!res.writableFinished ? 'destroy' : this.#ended ? 'end' : 'keep');
    });
  }

  /** The client half-closed the real connection: node:http reads the end of its input. */
  clientEnded(): void {
    if (!this.#released) this.push(null);
  }

  /** The real connection went away mid-exchange: node's request ends as a client abort would. */
  abort(): void {
    if (this.#released) return;
    this.#released = true;
    this.destroy();
  }

  #release(how: ExchangeEnd): void {
    this.#released = true;
    this.destroy(); // node:http forgets this socket; the real one stays open (see _destroy)
    this.#done(how);
  }

  override _read(): void {
    /* the head is fed once; nothing else is read through this socket */
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#real.destroyed) return cb(new Error('the connection is closed'));
    this.#written += chunk.length;
    this.#real.write(chunk, (err) => cb(err ?? null));
  }

  // node:http ends its socket after a response it will not keep alive: the connection ends (see watch).
  override _final(cb: (err?: Error | null) => void): void {
    this.#ended = true;
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Destroyed by node:http itself (an error, a timeout) rather than released: cut the connection.
    if (!this.#released) {
      this.#released = true;
      this.#done(this.#ended ? 'end' : 'destroy');
    }
    cb(err);
  }
}
