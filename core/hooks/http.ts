import type { IncomingMessage, ServerResponse } from 'node:http';
import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook } from 'tapable';
import type { Logger } from 'pino';
import type { BootSession } from '../session/types.js';
import { hookIsIdle, hookWatchesCalls as watchesCalls, type HookRunner } from './runner.js';

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

/**
 * What a `request` or `script` tap may say besides `name` and `stage`.
 *
 * `paths`: the request paths the tap answers (given the normalised `ctx.path`). For any other path the tap
 * is not called: the request passes it by, as if it had returned `undefined` (request) or the value passed
 * in (script). It also keeps the fast path: a request whose path no tap of either hook takes is served on
 * the lean HTTP path (no node:http objects are made for it), as when nothing taps the hooks at all. A tap
 * without `paths` is called for every request, which then all go through node:http. Keep it a cheap, pure
 * test of the path: it runs for every request.
 * ```ts
 * server.http.hooks.request.tapPromise({ name: 'health', paths: (p) => p === '/healthz' }, async () => ({
 *   status: 200,
 *   body: 'ok\n',
 * }));
 * ```
 */
export interface HttpTapOptions {
  paths?: (path: string) => boolean;
}

/** Hooks of the HTTP server: early answers for operator endpoints, generated per-host scripts. */
export interface HttpHooks {
  /**
   * Before files are looked up: answer early (status page, metrics, an API) or deny.
   *
   * @when For each request, **before** `admit`: it is for operator endpoints, which must keep working when
   *   an allowlist is on. Boot content (`script`, files) is always admitted first; a plugin serving
   *   per-client content from here must call `server.admit()` itself. A tap that gives `paths`
   *   (HttpTapOptions) is called only for those paths; requests that no tap of this hook or `script` takes
   *   (plain GET/HEAD) are served on the lean path, without node:http (docs/design.md). A tap without
   *   `paths` sends every request through node:http, whose `req`/`res` are in the context.
   * @returns `{ status, headers?, body? }` answers; `{ deny: 'reason' }` answers 403; `{ handled: true }`
   *   when the tap wrote `res` itself (the status page and `/metrics` do); `undefined` passes on.
   * @onError HTTP 500 (or the connection is cut after the headers were sent); logged as `http.error`.
   * @example
   * ```ts
   * server.http.hooks.request.tapPromise({ name: 'health', paths: (p) => p === '/healthz' }, async () => {
   *   return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok\n' };
   * });
   * ```
   */
  request: AsyncSeriesBailHook<[HttpContext], HttpAnswer | undefined, HttpTapOptions>;
  /**
   * Build or edit a per-host script (iPXE script, grub.cfg) for this request.
   *
   * @when For each admitted request that no `request` tap answered, before the files are looked up. The
   *   value starts as `undefined`. With `paths` (HttpTapOptions), only for those paths: give it, so that
   *   kernels and initrds keep the lean path.
   * @returns A script `{ body, contentType? }` to serve, or the value passed in. When the result is
   *   `undefined` the path is served from the files tree.
   * @onError HTTP 500; logged as `http.error`.
   * @example
   * ```ts
   * server.http.hooks.script.tapPromise({ name: 'hello', paths: (p) => p === '/boot.ipxe' }, async (script) => {
   *   return script ?? { body: '#!ipxe\necho hello\nshell\n', contentType: 'text/plain' };
   * });
   * ```
   */
  script: AsyncSeriesWaterfallHook<[HttpScript | undefined, HttpContext], HttpScript | undefined, HttpTapOptions>;
}

export function createHttpHooks(runner: HookRunner): HttpHooks {
  const hooks: HttpHooks = {
    request: runner.register(
      'http.request',
      new AsyncSeriesBailHook<[HttpContext], HttpAnswer | undefined, HttpTapOptions>(['context']),
    ),
    script: runner.register(
      'http.script',
      new AsyncSeriesWaterfallHook<[HttpScript | undefined, HttpContext], HttpScript | undefined, HttpTapOptions>([
        'script',
        'context',
      ]),
    ),
  };
  // After the runner's own interceptor: a tap passed by is not timed, and cannot fail or time out.
  hooks.request.intercept({ register: (tap) => limitToPaths(tap, 0, () => undefined) });
  hooks.script.intercept({ register: (tap) => limitToPaths(tap, 1, (args) => args[0]) });
  return hooks;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tapable's taps take any arguments
type TapFn = (...args: any[]) => unknown;
interface PathTap {
  type: 'sync' | 'async' | 'promise';
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- tapable types a tap's fn as Function
  fn: Function;
  paths?: unknown;
}

/**
 * A tap with `paths` gets a fn that answers `passBy(args)` (what the hook goes on with) without calling
 * the plugin when the context's path (argument `ctxAt`) is not one of them.
 */
function limitToPaths<T extends PathTap>(tap: T, ctxAt: number, passBy: (args: unknown[]) => unknown): T {
  const paths = tap.paths;
  if (paths === undefined) return tap;
  if (typeof paths !== 'function')
    throw new TypeError("an HTTP hook tap's `paths` must be a function (path) => boolean");
  const test = paths as (path: string) => boolean;
  const takes = (args: unknown[]) => tapTakes(test, (args[ctxAt] as HttpContext).path);
  const fn = tap.fn as TapFn;
  const wrapped: TapFn =
    tap.type === 'promise'
      ? (...args) => (takes(args) ? fn(...args) : Promise.resolve(passBy(args)))
      : tap.type === 'async'
        ? (...args) => {
            if (takes(args)) return fn(...args);
            (args[args.length - 1] as (err: null, v: unknown) => void)(null, passBy(args));
          }
        : (...args) => (takes(args) ? fn(...args) : passBy(args));
  return { ...tap, fn: wrapped };
}

/** A `paths` test that throws takes the request: the tap runs, and what it does is its own (errors tagged). */
function tapTakes(paths: (path: string) => boolean, path: string): boolean {
  try {
    return paths(path);
  } catch {
    return true;
  }
}

/** A request or script hook as the HTTP path sees it (its taps, with their `paths`). */
type HttpHook = HttpHooks['request'] | HttpHooks['script'];

/**
 * No tap of `hook` is called for `path`: nothing taps it (hookIsIdle), or every tap gives `paths` and none
 * takes this one. Such a request needs no hook context (nor node:http's objects for one).
 */
export function httpHookPasses(hook: HttpHook, path: string): boolean {
  if (hookIsIdle(hook)) return true;
  for (const tap of hook.taps as ReadonlyArray<{ paths?: (path: string) => boolean }>) {
    if (tap.paths === undefined || tapTakes(tap.paths, path)) return false;
  }
  return !watchesCalls(hook);
}

/** Every tap of `hook` gives `paths` (so a request's path decides), and no interceptor watches its calls. */
export function httpHookPathLimited(hook: HttpHook): boolean {
  return (hook.taps as ReadonlyArray<{ paths?: unknown }>).every((t) => t.paths !== undefined) && !watchesCalls(hook);
}
