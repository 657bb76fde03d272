import { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { httpHookPasses, httpHookPathLimited, type HttpContext, type HttpHooks } from '../hooks/http.js';
import { hookTags } from '../errors.js';
import { hookIsIdle } from '../hooks/runner.js';
import type { HttpRequestLike, HttpResponseLike } from './exchange.js';
import type { ProtocolHost } from '../hooks/host.js';
import { parseRequestTarget } from './request-target.js';
import { sendBody, sendStatus } from './respond.js';
import { serveFile, type ServeResult } from './serve-file.js';
import { lookupClient, type ClientIdentity } from './session-lookup.js';

export interface HandlerDeps {
  server: ProtocolHost;
  hooks: HttpHooks;
  log: Logger;
}

/** What one request did, filled in as it goes; read by the access log line when the response closes. */
interface RequestState {
  path: string;
  bytes: number;
  identity?: ClientIdentity;
}

const ALLOW = 'GET, HEAD';

/**
 * The whole HTTP request flow, shared by the listener and inject(): method → path → client →
 * `request` hook (operator endpoints, not admitted) → admit → `script` hook → files. Never throws and
 * never leaves a request hanging: any failure becomes a 500 (before headers) or a destroyed socket
 * (after), logged as `http.error`. The returned promise settles (never rejects) once the response is
 * closed and logged.
 */
export interface RequestHandler {
  (req: HttpRequestLike, res: HttpResponseLike): Promise<void>;
  /**
   * No tap of `request` or `script` would be called for this request target (nothing taps them, or every
   * tap gives `paths` and none takes this path), so it needs no hook context with node's req/res: the lean
   * path (lean-connection.ts) may serve it. Asked for each request it takes.
   */
  servesLean(url: string): boolean;
}

export function createRequestHandler(deps: HandlerDeps): RequestHandler {
  const handler = async (req: HttpRequestLike, res: HttpResponseLike): Promise<void> => {
    const started = performance.now();
    const state: RequestState = { path: (req.url ?? '').slice(0, 256), bytes: 0 };
    // Whether the response was whole when it closed: read then, since a handler that writes after the client
    // left (a slow script) can still mark node's response finished later, with nothing sent.
    const closed = new Promise<boolean>((resolve) => res.once('close', () => resolve(res.writableFinished)));
    await handle(deps, req, res, state, started).catch((err: unknown) => {
      deps.log.error({ event: 'http.error', err, ...hookTags(err), path: state.path }, 'HTTP request failed');
      emitError(deps.server, state, 500, err);
      if (!res.headersSent) state.bytes = sendStatus(res, req.method ?? 'GET', 500);
      else res.destroy();
    });
    // The access line waits for both the flow (bytes known) and the response (a `handled` tap may still write).
    logRequest(deps.log, req, res, state, started, await closed);
  };
  return Object.assign(handler, {
    servesLean: (url: string) => {
      const { request, script } = deps.hooks;
      if (hookIsIdle(request) && hookIsIdle(script)) return true;
      if (!httpHookPathLimited(request) || !httpHookPathLimited(script)) return false;
      const target = parseRequestTarget(url);
      // A bad target is answered 400 before any hook: the lean path can do that too.
      return !target.ok || (httpHookPasses(request, target.path) && httpHookPasses(script, target.path));
    },
  });
}

async function handle(
  deps: HandlerDeps,
  req: HttpRequestLike,
  res: HttpResponseLike,
  state: RequestState,
  started: number,
): Promise<void> {
  const { server, hooks } = deps;
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    state.bytes = sendStatus(res, method, 405, { Allow: ALLOW });
    return;
  }
  const target = parseRequestTarget(req.url);
  if (!target.ok) {
    deps.log.info(
      { event: 'http.path.invalid', url: state.path, reason: target.reason, client: req.socket.remoteAddress },
      'refused request path',
    );
    state.bytes = sendStatus(res, method, target.status);
    return;
  }
  const { path, query } = target;
  state.path = path;
  const id = lookupClient(server.sessions, path, query, req.socket.remoteAddress);
  state.identity = id;

  // Most requests meet no tap of either hook (none tapped, or none for this path, HttpTapOptions.paths): then
  // neither the context nor the hook calls are made.
  const requestIdle = httpHookPasses(hooks.request, path);
  const scriptIdle = httpHookPasses(hooks.script, path);
  const ctx = requestIdle && scriptIdle ? undefined : requestContext(deps.log, req, res, method, path, query, id);
  const answer = requestIdle || !ctx ? undefined : await hooks.request.promise(ctx);
  if (answer) {
    const plugin = server.runner.decidedBy(answer);
    if ('handled' in answer) return;
    if ('deny' in answer) {
      deps.log.info(
        { event: 'http.deny', path, client: id.ip, mac: id.mac, reason: answer.deny, plugin },
        'request denied by a plugin',
      );
      server.emit({
        type: 'http.deny',
        protocol: 'http',
        outcome: 'denied',
        ...who(id),
        ...(plugin ? { plugin } : {}),
        data: { path, reason: answer.deny },
      });
      state.bytes = sendStatus(res, method, 403);
      return;
    }
    state.bytes = sendBody(res, method, answer.status, answer.headers ?? {}, answer.body ?? '');
    return;
  }

  // Boot content (scripts and files) is admitted; `request` answers above are not: they serve the
  // operator's endpoints (status page, /metrics), which must work with an allowlist on. A plugin that
  // serves per-client content from `request` calls server.admit() itself.
  if (id.session) {
    server.sessions.upsert(id.session.mac, { ...(id.ip ? { ip: id.ip } : {}), stage: 'http' });
  }
  const admitted = await server.admit({
    protocol: 'http',
    ...(id.mac ? { mac: id.mac } : {}),
    ip: id.ip,
    ...(id.session ? { session: id.session } : {}),
    path,
  });
  if (!admitted.allowed) {
    state.bytes = sendStatus(res, method, 403);
    return;
  }

  const script = scriptIdle || !ctx ? undefined : await hooks.script.promise(undefined, ctx);
  if (script) {
    const producer = script.producedBy ?? server.runner.decidedBy(script);
    // Per-host scripts change with every decision: never let a cache (or the firmware) keep one.
    state.bytes = sendBody(
      res,
      method,
      200,
      { 'Content-Type': script.contentType ?? 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
      script.body,
    );
    finished(
      deps,
      state,
      method,
      { status: 200, bytes: state.bytes, complete: true },
      started,
      { script: producer ?? 'unknown' },
      producer,
    );
    return;
  }

  const handle = await server.files.resolve(path, {
    protocol: 'http',
    ...(id.session ? { session: id.session } : {}),
    clientAddress: id.ip,
  });
  if (!handle) {
    state.bytes = sendStatus(res, method, 404);
    if (server.observesBootEvents)
      server.emit({
        type: 'http.get',
        protocol: 'http',
        outcome: 'error',
        ...who(id),
        data: { path, status: 404, bytes: 0, durationMs: elapsed(started), reason: 'not found' },
      });
    return;
  }
  const result = await serveFile(req, res, handle);
  state.bytes = result.bytes;
  if (result.error !== undefined) {
    deps.log.error(
      { event: 'http.error', err: result.error, path, source: handle.source, bytes: result.bytes, client: id.ip },
      'HTTP body failed after headers; connection cut',
    );
    emitError(server, state, result.status, result.error, handle.source);
    return;
  }
  finished(deps, state, method, result, started, { source: handle.source }, undefined);
}

/**
 * The `request`/`script` hooks' context. Its `log` (a pino child) is made when first read: most requests
 * never log through it. Accessors in the literal, not defineProperty on it (a runtime call per request).
 */
function requestContext(
  log: Logger,
  req: HttpRequestLike,
  res: HttpResponseLike,
  method: string,
  path: string,
  query: URLSearchParams,
  id: ClientIdentity,
): HttpContext {
  // The lean path serves only requests no tap is called for (servesLean), so a tap always sees node's objects.
  if (!(req instanceof IncomingMessage) || !(res instanceof ServerResponse))
    throw new Error('a request/script hook was tapped while the lean HTTP path had the request');
  let child: Logger | undefined;
  const ctx: HttpContext = {
    req,
    res,
    method,
    path,
    query,
    client: { address: id.ip, port: req.socket.remotePort ?? 0 },
    get log(): Logger {
      return (child ??= log.child({ client: id.ip, path }));
    },
    set log(l: Logger) {
      child = l;
    },
  };
  if (id.session) ctx.session = id.session;
  return ctx;
}

/** A response is out: record the file against the session and emit `http.get`. */
function finished(
  deps: HandlerDeps,
  state: RequestState,
  method: string,
  result: ServeResult,
  started: number,
  data: Record<string, unknown>,
  plugin: string | undefined,
): void {
  const id = state.identity;
  if (id?.session && method === 'GET' && result.complete && (result.status === 200 || result.status === 206)) {
    deps.server.sessions.recordFile(id.session, state.path, result.bytes);
  }
  if (!deps.server.observesBootEvents) return;
  deps.server.emit({
    type: 'http.get',
    protocol: 'http',
    outcome: result.complete ? 'ok' : 'error',
    ...(id ? who(id) : {}),
    ...(plugin ? { plugin } : {}),
    data: {
      path: state.path,
      method,
      status: result.status,
      bytes: result.bytes,
      durationMs: elapsed(started),
      ...(result.range ? { range: result.range } : {}),
      ...(result.aborted ? { aborted: true } : {}),
      ...data,
    },
  });
}

function emitError(server: ProtocolHost, state: RequestState, status: number, err: unknown, source?: string): void {
  const tags = hookTags(err);
  server.emit({
    type: 'http.error',
    protocol: 'http',
    outcome: 'error',
    ...(state.identity ? who(state.identity) : {}),
    ...(tags.plugin ? { plugin: tags.plugin } : {}),
    data: {
      path: state.path,
      status,
      message: err instanceof Error ? err.message : String(err),
      code: tags.code ?? 'PXE_ERR_HTTP_REQUEST',
      ...(source ? { source } : {}),
    },
  });
}

function who(id: ClientIdentity): { mac?: string; ip?: string; session?: NonNullable<ClientIdentity['session']> } {
  return {
    ...(id.mac ? { mac: id.mac } : {}),
    ...(id.ip ? { ip: id.ip } : {}),
    ...(id.session ? { session: id.session } : {}),
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** One access-log line per request, when the response is done or the client is gone. */
function logRequest(
  log: Logger,
  req: HttpRequestLike,
  res: HttpResponseLike,
  state: RequestState,
  started: number,
  whole: boolean,
): void {
  if (!log.isLevelEnabled('info')) return;
  const aborted = !whole;
  const bytes = state.bytes || (whole && req.method !== 'HEAD' ? Number(res.getHeader('content-length') ?? 0) : 0);
  log.info(
    {
      event: 'http.request',
      method: req.method,
      path: state.path,
      status: res.statusCode,
      bytes,
      ms: elapsed(started),
      client: state.identity?.ip ?? req.socket.remoteAddress,
      ...(state.identity?.mac ? { mac: state.identity.mac } : {}),
      ...(aborted ? { aborted: true } : {}),
      ...(res.lean ? { lean: true } : {}),
    },
    `${req.method} ${state.path} ${res.statusCode}`,
  );
}
