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

/** Hooks of the TFTP server: map or deny a read, clamp the negotiated options. */
export interface TftpHooks {
  /**
   * Before a file is resolved: deny the read, or map the path (per-MAC folders via the session).
   *
   * @when For each read request, after `admit` and path normalisation, before the file sources resolve it.
   * @returns `{ deny: 'reason' }` answers ERROR 2 (access violation); `{ path }` serves that virtual path
   *   instead (normalised again); `undefined` passes to the next tap, and the path is served as asked.
   * @onError The client gets ERROR 0 `internal server error`; logged as `tftp.hook.error`.
   * @example
   * ```ts
   * server.tftp.hooks.readRequest.tapPromise('per-host', async (req) => {
   *   if (req.path !== '/grub.cfg' || !req.session) return undefined;
   *   return { path: `/hosts/${req.session.mac.replaceAll(':', '-')}/grub.cfg` };
   * });
   * ```
   */
  readRequest: AsyncSeriesBailHook<[TftpReadRequest], TftpReadDecision | undefined>;
  /**
   * Last word on negotiated options (after the server applied its own caps): a quirk plugin can clamp
   * further for one client model.
   *
   * @when For each read request with options, once the file is found and before the OACK is sent.
   * @returns The values to acknowledge; a field set to `undefined` is left out of the OACK. Lower or drop
   *   only: an option the server did not offer is never added, blksize never exceeds what the client asked.
   * @onError The client gets ERROR 0 `internal server error`; logged as `tftp.hook.error`.
   * @example
   * ```ts
   * server.tftp.hooks.negotiate.tap('old-rom', (n, req) => {
   *   if (req.session?.vendorClass?.includes('PXEClient:Arch:00000')) return { ...n, blksize: 1024 };
   *   return n;
   * });
   * ```
   */
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
