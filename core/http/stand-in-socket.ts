import { Duplex } from 'node:stream';

/**
 * A Duplex that node:http takes as a connection (inject's in-memory socket, a lean connection's exchange
 * socket): the socket methods node:http calls, as no-ops. Timers and TCP options belong to the real
 * connection, if there is one.
 */
export abstract class StandInSocket extends Duplex {
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
