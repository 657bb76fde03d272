/** What a ReadTransfer is given (the file, negotiated parameters, its socket) and what it reports when it ends. */
import type { Readable } from 'node:stream';
import type { FileReader } from '../files/types.js';
import type { Clock } from './clock.js';
import type { TransferParams } from './options.js';
import type { TransferSocket } from './transfer-socket.js';

/** Longest wait between retransmissions after backoff (the base timeout, if larger, wins). */
export const MAX_BACKOFF_MS = 8000;

export type TransferOutcome = 'done' | 'probe' | 'timeout' | 'client-error' | 'read-error' | 'aborted';

export interface TransferStats {
  outcome: TransferOutcome;
  /** Payload bytes sent (each block counted once; netascii: converted bytes). */
  bytes: number;
  /** Distinct DATA blocks sent. */
  blocks: number;
  /** DATA blocks (and OACKs) sent again after a timeout or a gap signal. */
  retransmits: number;
  durationMs: number;
  blksize: number;
  windowsize: number;
  /** Human-readable detail for every outcome but `done`. */
  reason?: string;
  /** The client's ERROR packet, when it sent one. */
  clientError?: { code: number; message: string };
}

export interface ReadTransferOptions {
  open: () => Promise<Readable>;
  /** Positional-read fast path (octet only): used instead of `open` when given, with `size` as the bound. */
  openReader?: (() => Promise<FileReader>) | undefined;
  /** Bytes to send when reading through `openReader` (the size the source announced). */
  size?: number;
  /**
   * Read-ahead buffer for `openReader` (clamped by PositionalBlockSource to 32–256 KiB, and at least a
   * window's worth): larger means fewer thread-pool reads, each a wake-up of the event loop.
   */
  readAheadBytes?: number;
  params: TransferParams;
  netascii?: boolean;
  /** Encoded OACK to send first; absent when no option was acknowledged (DATA 1 goes out at once). */
  oack?: Buffer;
  /** The OACK carried tsize, so ERROR 8 in reply is a size probe. */
  tsizeAcked?: boolean;
  /** Consecutive timeouts tolerated before giving up (default 5). */
  retries?: number;
  /** Every packet goes out here; in lock-step the transfer also arms its replies (`armReply`, `armChain`). */
  socket: Pick<TransferSocket, 'send' | 'armReply' | 'armChain' | 'chainSteps' | 'disarm'>;
  clock?: Clock;
  onFinish: (stats: TransferStats) => void;
}
