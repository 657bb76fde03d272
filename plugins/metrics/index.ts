import { definePlugin } from 'pxekit';
import { registerClusterMetrics } from './cluster.js';
import { PxeMetrics } from './collectors.js';
import { SideListener } from 'pxekit/kit';

export interface MetricsOptions {
  /** URL path of the Prometheus text. */
  path: string;
  /** Serve on this port of its own (0 = ephemeral) instead of the boot HTTP listener. */
  port?: number;
  /** Address of the own listener. */
  host: string;
  /** Share of hook tap timings put in the histogram (0..1). */
  hookSampleRate: number;
  /** Also export prom-client's process metrics (CPU, memory, event loop lag, GC) with a pxekit_ prefix. */
  processMetrics: boolean;
}

const NAME = 'metrics';

export default function metrics(options: Partial<MetricsOptions> = {}) {
  return definePlugin<MetricsOptions>({
    name: NAME,
    options,
    optionalDependencies: ['dhcp-cluster'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: {
          type: 'string',
          pattern: '^/',
          default: '/metrics',
          description: 'URL path of the Prometheus text format',
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
          description: 'address of the own listener (with port); 0.0.0.0 to be scraped from other machines',
        },
        hookSampleRate: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 1,
          description: 'share of hook tap timings observed in pxekit_hook_duration_seconds',
        },
        processMetrics: {
          type: 'boolean',
          default: false,
          description: "also export prom-client's default process metrics (pxekit_process_*, pxekit_nodejs_*)",
        },
      },
    },
    apply(server, { options: o, log, use }) {
      const m = new PxeMetrics(server, { hookSampleRate: o.hookSampleRate, processMetrics: o.processMetrics });
      // dhcp-cluster may be listed after this plugin: its view is taken once every plugin has applied.
      server.hooks.ready.tap(NAME, () => {
        const view = use('clusterView', { optional: true });
        if (view) registerClusterMetrics(m.registry, view);
      });
      server.hooks.bootEvent.tap(NAME, (ev) => m.onEvent(ev));
      const stopTiming = server.runner.onTiming((t) => m.onTiming(t));
      const render = async () => ({
        status: 200,
        headers: { 'Content-Type': m.registry.contentType, 'Cache-Control': 'no-store' },
        body: await m.registry.metrics(),
      });

      let side: SideListener | undefined;
      if (o.port === undefined) {
        // `paths`: other requests never call the tap, and keep the lean HTTP path.
        server.http.hooks.request.tapPromise({ name: NAME, paths: (p) => p === o.path }, async (ctx) => {
          if (ctx.path !== o.path) return undefined;
          if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
            return { status: 405, headers: { Allow: 'GET, HEAD' }, body: '' };
          return render();
        });
      } else {
        side = new SideListener(
          NAME,
          async (req, res, path) => {
            if (path !== o.path) return false;
            const r = await render();
            res.writeHead(r.status, { ...r.headers, 'Content-Length': Buffer.byteLength(r.body) });
            res.end(req.method === 'HEAD' ? undefined : r.body);
            return true;
          },
          log,
        );
        server.hooks.ready.tapPromise(NAME, async () => {
          const a = await side!.listen(o.port!, o.host);
          log.info(
            { event: 'metrics.listening', address: a.address, port: a.port, path: o.path },
            `metrics on http://${a.address}:${a.port}${o.path}`,
          );
        });
      }
      server.hooks.close.tapPromise(NAME, async () => {
        stopTiming();
        await side?.close();
      });
      // For tests and embedding programs: the registry and the bound address.
      metricsHandles.set(server, { registry: m.registry, ...(side ? { side } : {}) });
    },
  });
}

/** The registry (and own listener) a server's metrics plugin uses, for embedding programs and tests. */
export const metricsHandles = new WeakMap<object, { registry: PxeMetrics['registry']; side?: SideListener }>();
