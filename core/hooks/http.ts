import type { IncomingMessage, ServerResponse } from 'node:http';
import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook } from 'tapable';
import type { Logger } from 'pino';
import type { BootSession } from '../session/types.js';
import type { HookRunner } from './runner.js';

export interface HttpContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Safe, normalised virtual path (`//` collapsed, no `..`). */
  path: string;
  query: URLSearchParams;
  client: { address: string; port: number };
  /** The boot session of the client, by `?mac=` / a MAC in the path, else by source IP. */
  session?: BootSession;
  log: Logger;
}

/**
 * An early answer from a `request` tap: a full response (`status`, headers, body),
 * `{ deny }` (403 with the reason logged), or `{ handled: true }` when the tap wrote `res` itself.
 */
export type HttpAnswer =
  { status: number; headers?: Record<string, string>; body?: string | Buffer } | { deny: string } | { handled: true };

/** A generated per-host script (iPXE, GRUB) served instead of a file. */
export interface HttpScript {
  body: string;
  contentType?: string;
  /** Plugin that produced it, filled by the core. */
  producedBy?: string;
}

export interface HttpHooks {
  /** Before files are looked up: answer early (status page, metrics, redirect-free API) or deny. */
  request: AsyncSeriesBailHook<[HttpContext], HttpAnswer | undefined>;
  /**
   * Build or edit a per-host script for this request. Starts from undefined; a tap returns a script to
   * serve, or passes the value on. If the result is undefined, the path is served from the files tree.
   */
  script: AsyncSeriesWaterfallHook<[HttpScript | undefined, HttpContext]>;
}

export function createHttpHooks(runner: HookRunner): HttpHooks {
  return {
    request: runner.register(
      'http.request',
      new AsyncSeriesBailHook<[HttpContext], HttpAnswer | undefined>(['context']),
    ),
    script: runner.register(
      'http.script',
      new AsyncSeriesWaterfallHook<[HttpScript | undefined, HttpContext]>(['script', 'context']),
    ),
  };
}
