import { AsyncSeriesBailHook, SyncWaterfallHook } from 'tapable';
import type { Logger } from 'pino';
import type { BootSession } from '../session/types.js';
import type { HookRunner } from './runner.js';

/** A TFTP read request as plugins see it. */
export interface TftpReadRequest {
  /** The file name exactly as the client sent it. */
  requestedPath: string;
  /** Safe virtual path (`/`-rooted, no `..`), what sources resolve. */
  path: string;
  mode: 'octet' | 'netascii';
  /** Options the client asked for, lowercased names. */
  options: Record<string, string>;
  client: { address: string; port: number };
  session?: BootSession;
  log: Logger;
}

/** `{ deny }` → ERROR 2 access violation; `{ path }` → serve this virtual path instead. */
export type TftpReadDecision = { deny: string } | { path: string };

/** Values the server will acknowledge; a field left undefined is not put in the OACK. */
export interface TftpNegotiation {
  blksize?: number;
  timeout?: number;
  tsize?: number;
  windowsize?: number;
}

export interface TftpHooks {
  /** Before a file is resolved: deny the read, or map the path (per-MAC folders via the session). */
  readRequest: AsyncSeriesBailHook<[TftpReadRequest], TftpReadDecision | undefined>;
  /** Last word on negotiated options (after the server clamped them): a quirk plugin can clamp more. */
  negotiate: SyncWaterfallHook<[TftpNegotiation, TftpReadRequest]>;
}

export function createTftpHooks(runner: HookRunner): TftpHooks {
  return {
    readRequest: runner.register(
      'tftp.readRequest',
      new AsyncSeriesBailHook<[TftpReadRequest], TftpReadDecision | undefined>(['request']),
    ),
    negotiate: runner.register(
      'tftp.negotiate',
      new SyncWaterfallHook<[TftpNegotiation, TftpReadRequest]>(['negotiation', 'request']),
    ),
  };
}
