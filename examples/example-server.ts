/**
 * Test helper for the examples: loads an example's config file exactly as `pxekit start --config`
 * does, then moves every listener to 127.0.0.1 on ephemeral ports (so the test needs no root and
 * touches no real network) and collects the JSON log lines for assertions.
 * Not an example itself: each `examples/<name>/<name>.test.ts` uses it.
 */
import type { TestContext } from 'node:test';
import { Writable } from 'node:stream';
import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { loadConfig, type PluginRef, PxeServer, resolvePlugins } from 'pxekit';

export interface ExampleOptions {
  /** Options merged into plugin entries, by the ref as written in the config (`./ipxe-binaries.ts`, `source-s3`). */
  pluginOptions?: Record<string, Record<string, unknown>>;
}

export interface StartedExample {
  server: PxeServer;
  /** Every log line so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** Log lines whose `event` field is `event`. */
  events(event: string): Array<Record<string, unknown>>;
}

export async function startExample(
  t: TestContext,
  configPath: string,
  opts: ExampleOptions = {},
): Promise<StartedExample> {
  const file = resolve(configPath);
  const loaded = await loadConfig(file);
  const cfg = loaded.config;
  const refs = (cfg.plugins as PluginRef[]).map((ref): PluginRef => {
    const name = typeof ref === 'string' ? ref : ref[0];
    const extra = opts.pluginOptions?.[name];
    if (!extra) return ref;
    const base = typeof ref === 'string' || ref.length < 2 ? {} : ref[1];
    return [name, { ...base, ...extra }];
  });
  const { plugins, origins } = await resolvePlugins(refs, { baseDir: dirname(file), file });
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n'))
        if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug', base: { name: 'pxekit' } }, sink);
  const config = {
    ...cfg,
    plugins,
    // Loopback, ephemeral: tests drive DHCP with server.dhcp.inject() (a packet "arriving" on 10.77.0.1).
    dhcp: { ...cfg.dhcp, address: '127.0.0.1', port: 0, pxePort: 0 },
    tftp: { ...cfg.tftp, address: '127.0.0.1', port: 0 },
    http: { ...cfg.http, address: '127.0.0.1', port: 0 },
  };
  const server = new PxeServer(config, { logger, configFile: file, pluginOrigins: origins, baseDir: dirname(file) });
  await server.start();
  t.after(() => server.close());
  return { server, logs: () => lines, events: (e) => lines.filter((l) => l['event'] === e) };
}
