/**
 * A whole pxekit server (createServer) with TFTP on 127.0.0.1 and an ephemeral port, the real
 * source-disk plugin on a temp dir, extra plugins, and recorders for boot events and log lines.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { BootEvent } from '../../core/hooks/server.js';
import { definePlugin, type PluginDefinition } from '../../core/plugin.js';
import { createServer } from '../../core/create-server.js';
import type { PxeServer } from '../../core/server.js';
import sourceDisk from '../../plugins/source-disk/index.js';

export interface PxeTftpFixture {
  server: PxeServer;
  /** Bound TFTP port (0 when `listen` is false). */
  port: number;
  root: string;
  events: BootEvent[];
  /** Parsed pino lines (level debug and up). */
  logs: Record<string, unknown>[];
  waitEvent: (type: string, pred?: (e: BootEvent) => boolean, ms?: number) => Promise<BootEvent>;
  stop: () => Promise<void>;
}

export interface FixtureOptions {
  files?: Record<string, Buffer | string>;
  plugins?: PluginDefinition[];
  /** Bind the TFTP port (default true); false = inject only. */
  listen?: boolean;
  tftp?: Record<string, unknown>;
  /** Tap bootEvent to record events (default true); false: nothing observes boot events. */
  recordEvents?: boolean;
  /** The server's log level (default debug). */
  logLevel?: string;
}

export async function startPxeTftp(o: FixtureOptions = {}): Promise<PxeTftpFixture> {
  const root = mkdtempSync(join(tmpdir(), 'pxekit-tftp-pxe-'));
  for (const [name, content] of Object.entries(o.files ?? {})) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  const events: BootEvent[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not JSON */
        }
      }
      cb();
    },
  });
  const recorder = definePlugin({
    name: 'test-event-recorder',
    apply(server) {
      server.hooks.bootEvent.tap('test-event-recorder', (ev) => {
        events.push(ev);
      });
    },
  });
  const listen = o.listen ?? true;
  const server = createServer({
    logger: pino({ level: o.logLevel ?? 'debug' }, sink),
    dhcp: { mode: 'off' },
    http: { enabled: false },
    tftp: { enabled: listen, port: 0, address: '127.0.0.1', ...(o.tftp ?? {}) },
    plugins: [...(o.recordEvents === false ? [] : [recorder]), sourceDisk({ root }), ...(o.plugins ?? [])],
  });
  const bound = await server.start();
  const port = bound.find((b) => b.protocol === 'tftp')?.port ?? 0;
  return {
    server,
    port,
    root,
    events,
    logs,
    async waitEvent(type, pred = () => true, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const e = events.find((x) => x.type === type && pred(x));
        if (e) return e;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no ${type} boot event within ${ms} ms; got ${events.map((e) => e.type).join(', ')}`);
    },
    async stop() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
