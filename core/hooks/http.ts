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

/** Hooks of the HTTP server: early answers for operator endpoints, generated per-host scripts. */
export interface HttpHooks {
  /**
   * Before files are looked up: answer early (status page, metrics, an API) or deny.
   *
   * @when For each request, **before** `admit`: it is for operator endpoints, which must keep working when
   *   an allowlist is on. Boot content (`script`, files) is always admitted first; a plugin serving
   *   per-client content from here must call `server.admit()` itself. While this hook or `script` has a tap,
   *   every request goes through node:http (its `req`/`res` are in the context); with neither tapped, plain
   *   GET/HEAD requests take the lean path, which serves files without node:http (docs/design.md).
   * @returns `{ status, headers?, body? }` answers; `{ deny: 'reason' }` answers 403; `{ handled: true }`
   *   when the tap wrote `res` itself (the status page and `/metrics` do); `undefined` passes on.
   * @onError HTTP 500 (or the connection is cut after the headers were sent); logged as `http.error`.
   * @example
   * ```ts
   * server.http.hooks.request.tapPromise('health', async (ctx) => {
   *   if (ctx.path !== '/healthz') return undefined;
   *   return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok\n' };
   * });
   * ```
   */
  request: AsyncSeriesBailHook<[HttpContext], HttpAnswer | undefined>;
  /**
   * Build or edit a per-host script (iPXE script, grub.cfg) for this request.
   *
   * @when For each admitted request that no `request` tap answered, before the files are looked up. The
   *   value starts as `undefined`.
   * @returns A script `{ body, contentType? }` to serve, or the value passed in. When the result is
   *   `undefined` the path is served from the files tree.
   * @onError HTTP 500; logged as `http.error`.
   * @example
   * ```ts
   * server.http.hooks.script.tapPromise('hello', async (script, ctx) => {
   *   if (script || ctx.path !== '/boot.ipxe') return script;
   *   return { body: '#!ipxe\necho hello\nshell\n', contentType: 'text/plain' };
   * });
   * ```
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
