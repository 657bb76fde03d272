/** Shared bits of the file-source integration tests. */
import { Writable, type Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { createLogger } from '../../../core/log.js';
import { createServer } from '../../../core/create-server.js';
import type { PxeServer } from '../../../core/server.js';
import type { BootEvent } from '../../../core/hooks/server.js';

export async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A pino logger whose JSON lines are kept in memory, for asserting log events. */
export function logSink(level: 'debug' | 'info' = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ level, destination }) };
}

/** A started server with only the given plugins (no listeners), closed after the test. */
export async function startSources(
  t: { after(fn: () => Promise<void>): void },
  plugins: unknown[],
  logger = logSink().logger,
): Promise<{ server: PxeServer; events: BootEvent[] }> {
  const server = createServer({
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    logger,
    plugins: plugins as never,
  });
  const events: BootEvent[] = [];
  server.hooks.bootEvent.tap('test', (e) => {
    events.push(e);
  });
  await server.start();
  t.after(() => server.close());
  return { server, events };
}

/** Deterministic bytes (fast xorshift), so content checks do not need the whole file kept twice. */
export function patternBytes(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  for (let i = size - (size % 4); i < size; i++) b[i] = i & 0xff;
  return b;
}

/**
 * Drains a stream, hashing it, while sampling RSS: returns the sha256, the byte count and the peak RSS growth.
 * Bounded: rejects if the stream has not ended within `timeoutMs`.
 */
export async function drainMeasured(
  s: Readable,
  timeoutMs = 120_000,
): Promise<{ sha256: string; bytes: number; peakRssDelta: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const hash = createHash('sha256');
  let bytes = 0;
  const timer = setTimeout(() => s.destroy(new Error(`stream did not end within ${timeoutMs} ms`)), timeoutMs);
  try {
    for await (const c of s) {
      hash.update(c as Buffer);
      bytes += (c as Buffer).length;
    }
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return { sha256: hash.digest('hex'), bytes, peakRssDelta: peak - base };
}

/** Rejects if `p` has not settled within `ms` (a hang is a failure, not a stuck test). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
