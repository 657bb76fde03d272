/**
 * A real redis-server for tests: on 127.0.0.1, a free port, its own temp folder, no persistence
 * unless asked (`aof: true`). stop() and start() again on the same port simulate an outage.
 * Only the process started here is ever signalled (by its pid).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Why these tests cannot run here, or undefined. */
export function redisAvailable(): string | undefined {
  return existsSync(REDIS_SERVER) ? undefined : `needs ${REDIS_SERVER} (apt-get install redis-server)`;
}

export interface TestRedis {
  port: number;
  url: string;
  /** A client for assertions (closed by stop/t.after). */
  client(): Redis;
  start(): Promise<void>;
  /** SIGKILL (an outage), waits for the exit. */
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts redis-server (bound to `bind`, default 127.0.0.1) and registers its teardown on `t`. */
export async function startRedis(
  t: TestContext,
  opts: { aof?: boolean; bind?: string; port?: number } = {},
): Promise<TestRedis> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'pxk-redis-'));
  const bind = opts.bind ?? '127.0.0.1';
  let proc: ChildProcess | undefined;
  const clients: Redis[] = [];
  const args = [
    '--port',
    String(port),
    '--bind',
    bind,
    '--dir',
    dir,
    '--save',
    '',
    '--protected-mode',
    'no',
    '--appendonly',
    opts.aof ? 'yes' : 'no',
    '--appendfsync',
    'always',
  ];

  const start = async () => {
    const p = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let out = '';
    p.stdout?.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
    });
    p.stderr?.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(out)) {
      if (p.exitCode !== null) throw new Error(`redis-server exited ${p.exitCode}: ${out}`);
      if (Date.now() > deadline) throw new Error(`redis-server not ready in 10 s: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  t.after(async () => {
    for (const c of clients) c.disconnect();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const host = bind === '0.0.0.0' ? '127.0.0.1' : bind;
  return {
    port,
    url: `redis://${host}:${port}`,
    client: () => {
      const c = new Redis({ host, port, lazyConnect: false, maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    start,
    stop,
  };
}
