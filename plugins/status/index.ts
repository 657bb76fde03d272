import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { definePlugin, type HttpAnswer, pxekitVersion, STAGE_EARLY } from 'pxekit';
import { SideListener } from 'pxekit/kit';
import { pageCsp, statusPage } from './page.js';
import { SseHub } from './sse.js';
import { StatusState, type ClientView, type ClusterInfo, type Notice, type ServerInfo } from './state.js';

export interface StatusOptions {
  path: string;
  port?: number;
  host: string;
  maxClients: number;
  maxNotices: number;
  maxSseClients: number;
  heartbeatMs: number;
  updateIntervalMs: number;
  doneAfterMs: number;
  failAfterMissMs: number;
  stallAfterMs: number;
}

const NAME = 'status';

type Route = { kind: 'page' | 'events' | 'api' | 'missing' } | undefined;

function route(path: string, base: string): Route {
  if (path === base || path === `${base}/`) return { kind: 'page' };
  if (path === `${base}/events`) return { kind: 'events' };
  if (path === `${base}/api`) return { kind: 'api' };
  if (path.startsWith(`${base}/`)) return { kind: 'missing' };
  return undefined;
}

export default function status(options: Partial<StatusOptions> = {}) {
  return definePlugin<StatusOptions>({
    name: NAME,
    options,
    optionalDependencies: ['dhcp-cluster'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: {
          type: 'string',
          pattern: '^/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$',
          default: '/status',
          description: 'URL path of the page; the event stream is PATH/events and the JSON snapshot PATH/api',
        },
        port: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          description: 'serve on a listener of its own on this port (0 = ephemeral) instead of the boot HTTP listener',
        },
        host: {
          type: 'string',
          default: '127.0.0.1',
          description: 'address of the own listener (with port); 0.0.0.0 to open it to other machines',
        },
        maxClients: {
          type: 'integer',
          minimum: 1,
          maximum: 10000,
          default: 200,
          description: 'clients shown (most recently seen first)',
        },
        maxNotices: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          default: 50,
          description: 'recent denials and recent errors kept (each)',
        },
        maxSseClients: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          default: 20,
          description: 'open pages (event streams) at once; more get 503',
        },
        heartbeatMs: { type: 'integer', minimum: 1000, default: 15000, description: 'SSE comment heartbeat interval' },
        updateIntervalMs: {
          type: 'integer',
          minimum: 10,
          default: 250,
          description: 'changes are batched and pushed at most this often',
        },
        doneAfterMs: {
          type: 'integer',
          minimum: 0,
          default: 30000,
          description: 'a client whose last step was a finished download is shown as done after this much quiet',
        },
        failAfterMissMs: {
          type: 'integer',
          minimum: 0,
          default: 15000,
          description:
            'a client whose last request was for a missing file (HTTP 404, TFTP file not found) is failed after this much quiet',
        },
        stallAfterMs: {
          type: 'integer',
          minimum: 0,
          default: 120000,
          description: 'a client still booting that asks for nothing for this long is shown as stalled (0 = never)',
        },
      },
    },
    apply(server, { options: o, log, use }) {
      const state = new StatusState({
        maxClients: o.maxClients,
        maxNotices: o.maxNotices,
        doneAfterMs: o.doneAfterMs,
        failAfterMissMs: o.failAfterMissMs,
        stallAfterMs: o.stallAfterMs,
        sessions: server.sessions,
      });
      let startedAt: number | undefined;
      server.hooks.listening.tap(NAME, () => {
        startedAt = Date.now();
      });
      // dhcp-cluster may be listed after this plugin: its view is taken once every plugin has applied.
      let clusterView: (() => ClusterInfo) | undefined;
      server.hooks.ready.tap(NAME, () => {
        clusterView = use('clusterView', { optional: true });
      });
      const serverInfo = (): ServerInfo => ({
        version: pxekitVersion(),
        dhcpMode: server.config.dhcp.mode,
        listeners: server.listening.map((l) => `${l.protocol} ${l.address}:${l.port}`),
        ...(startedAt !== undefined ? { startedAt } : {}),
        ...(clusterView ? { cluster: clusterView() } : {}),
      });
      const snapshot = () => ({ ...state.snapshot(), server: serverInfo() });
      const hub = new SseHub({ maxClients: o.maxSseClients, heartbeatMs: o.heartbeatMs });
      const pending = {
        clients: new Map<string, ClientView & { previousId?: string }>(),
        denials: [] as Notice[],
        errors: [] as Notice[],
      };
      let flushTimer: NodeJS.Timeout | undefined;
      let ticker: NodeJS.Timeout | undefined;

      const flush = () => {
        flushTimer = undefined;
        if (pending.clients.size) hub.broadcast('clients', [...pending.clients.values()]);
        for (const d of pending.denials.reverse()) hub.broadcast('denial', d);
        for (const e of pending.errors.reverse()) hub.broadcast('error-notice', e);
        pending.clients.clear();
        pending.denials.length = 0;
        pending.errors.length = 0;
      };
      const schedule = () => {
        if (hub.size === 0) {
          pending.clients.clear();
          pending.denials.length = 0;
          pending.errors.length = 0;
          return;
        }
        flushTimer ??= setTimeout(flush, o.updateIntervalMs);
      };
      // Sweeps "done" clients; ends the streams as soon as the server starts closing, because the
      // boot listener waits for in-flight responses (an open stream) before it closes.
      const startTicker = () => {
        ticker ??= setInterval(() => {
          if (server.state === 'closing' || server.state === 'closed') {
            hub.endAll();
            return;
          }
          const done = state.sweep();
          if (done.length) {
            for (const c of done) pending.clients.set(c.id, { ...c });
            schedule();
          }
        }, 250).unref();
      };

      server.hooks.bootEvent.tap(NAME, (ev) => {
        // Redis lost or back, the cluster's split changed: the header's cluster line is sent again.
        if (clusterView && hub.size > 0 && (ev.type.startsWith('redis.') || ev.type.startsWith('cluster.')))
          hub.broadcast('server', serverInfo());
        const ch = state.apply(ev);
        if (ch.client)
          pending.clients.set(ch.client.id, {
            ...ch.client,
            ...(ch.renamedFrom ? { previousId: ch.renamedFrom } : {}),
          });
        if (ch.denial) pending.denials.push(ch.denial);
        if (ch.error) pending.errors.push(ch.error);
        if (pending.denials.length > o.maxNotices) pending.denials.splice(0, pending.denials.length - o.maxNotices);
        if (pending.errors.length > o.maxNotices) pending.errors.splice(0, pending.errors.length - o.maxNotices);
        startTicker();
        schedule();
      });

      const answer = (
        kind: NonNullable<Route>['kind'],
        method: string,
        req: IncomingMessage,
        res: ServerResponse,
      ): HttpAnswer => {
        if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { Allow: 'GET, HEAD' }, body: '' };
        if (kind === 'missing')
          return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'not found\n' };
        if (kind === 'api') {
          return {
            status: 200,
            headers: {
              'Content-Type': 'application/json; charset=utf-8',
              'Cache-Control': 'no-store',
              'X-Content-Type-Options': 'nosniff',
            },
            body: JSON.stringify(snapshot()),
          };
        }
        if (kind === 'page') {
          const nonce = randomBytes(16).toString('base64');
          return {
            status: 200,
            headers: {
              'Content-Type': 'text/html; charset=utf-8',
              'Cache-Control': 'no-store',
              'Content-Security-Policy': pageCsp(nonce),
              'X-Content-Type-Options': 'nosniff',
              'Referrer-Policy': 'no-referrer',
            },
            body: statusPage({ base: o.path, nonce, maxNotices: o.maxNotices, maxClients: o.maxClients }),
          };
        }
        if (method === 'HEAD')
          return { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8' }, body: '' };
        void req;
        startTicker();
        if (!hub.add(res, { event: 'snapshot', data: snapshot() })) {
          log.warn({ event: 'status.sse.full', max: o.maxSseClients }, 'status page: too many open event streams');
          return {
            status: 503,
            headers: { 'Retry-After': '10', 'Content-Type': 'text/plain; charset=utf-8' },
            body: 'too many status pages open\n',
          };
        }
        return { handled: true };
      };

      let side: SideListener | undefined;
      if (o.port === undefined) {
        // Early, so a status path is never looked up in the file tree.
        // `paths`: other requests never call the tap, and keep the lean HTTP path.
        const paths = (p: string) => route(p, o.path) !== undefined;
        server.http.hooks.request.tapPromise({ name: NAME, stage: STAGE_EARLY, paths }, async (ctx) => {
          const r = route(ctx.path, o.path);
          return r ? answer(r.kind, ctx.method, ctx.req, ctx.res) : undefined;
        });
      } else {
        side = new SideListener(
          NAME,
          async (req, res, path) => {
            const r = path === '/' ? { kind: 'redirect' as const } : route(path, o.path);
            if (!r) return false;
            if (r.kind === 'redirect') {
              res.writeHead(302, { Location: o.path }).end();
              return true;
            }
            const a = answer(r.kind, req.method ?? 'GET', req, res);
            if ('status' in a) {
              const body = a.body ?? '';
              res.writeHead(a.status, { ...a.headers, 'Content-Length': Buffer.byteLength(body) });
              res.end(req.method === 'HEAD' ? undefined : body);
            }
            return true;
          },
          log,
        );
        server.hooks.ready.tapPromise(NAME, async () => {
          const a = await side!.listen(o.port!, o.host);
          log.info(
            { event: 'status.listening', address: a.address, port: a.port, path: o.path },
            `status page on http://${a.address}:${a.port}${o.path}`,
          );
        });
      }
      server.hooks.close.tapPromise(NAME, async () => {
        clearInterval(ticker);
        clearTimeout(flushTimer);
        hub.endAll();
        await side?.close();
      });
      statusHandles.set(server, { state, hub, ...(side ? { side } : {}) });
    },
  });
}

/** The state, stream hub and own listener of a server's status plugin (tests, embedding programs). */
export const statusHandles = new WeakMap<object, { state: StatusState; hub: SseHub; side?: SideListener }>();
