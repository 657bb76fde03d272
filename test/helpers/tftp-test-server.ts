/** In-process TftpServer on 127.0.0.1 with an ephemeral port, a temp dir of files and an event recorder. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TftpServer } from '../../core/tftp/server.js';
import type { TftpCallbacks, TftpEvent, TftpServerOptions } from '../../core/tftp/types.js';
import { dirResolver } from './tftp-dir-source.js';

export interface TestServer {
  server: TftpServer;
  port: number;
  root: string;
  events: TftpEvent[];
  resolved: string[];
  /** Waits (bounded) until an event of `type` matching `pred` was recorded. */
  waitEvent: (type: TftpEvent['type'], pred?: (e: TftpEvent) => boolean, ms?: number) => Promise<TftpEvent>;
  stop: () => Promise<void>;
}

export async function startTestServer(
  files: Record<string, Buffer | string>,
  opts: Partial<TftpServerOptions> = {},
  callbacks: Partial<TftpCallbacks> = {},
): Promise<TestServer> {
  const root = mkdtempSync(join(tmpdir(), 'pxekit-tftp-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  const events: TftpEvent[] = [];
  const resolved: string[] = [];
  const resolve = dirResolver(root);
  const server = new TftpServer(
    { port: 0, address: '127.0.0.1', log: pino({ level: 'silent' }), mtuBlksize: false, closeGraceMs: 200, ...opts },
    {
      ...callbacks,
      resolve: async (path, req) => {
        resolved.push(path);
        return callbacks.resolve ? callbacks.resolve(path, req) : resolve(path);
      },
      event: (ev) => {
        events.push(ev);
        callbacks.event?.(ev);
      },
    },
  );
  const { port } = await server.listen();
  return {
    server,
    port,
    root,
    events,
    resolved,
    async waitEvent(type, pred = () => true, ms = 5000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const e = events.find((x) => x.type === type && pred(x));
        if (e) return e;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no ${type} event within ${ms} ms; got ${events.map((e) => e.type).join(', ')}`);
    },
    async stop() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
