import type { ListeningAddress } from '../hooks/server.js';

/** A listener the server owns: bound in start(), released in close(). */
export interface ProtocolService {
  /** Bind sockets; resolves with what is listening (empty when disabled by config). */
  start(): Promise<ListeningAddress[]>;
  /** Stop accepting, give in-flight work up to `graceMs`, then release everything. */
  close(graceMs: number): Promise<void>;
}
