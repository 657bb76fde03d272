/** Shared bits of the observability tests: a log capture and a bounded wait. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface LogCapture {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  events(name: string): Array<Record<string, unknown>>;
}

/** A pino logger writing into memory (sync), for asserting on `event` fields. */
export function captureLog(level: 'debug' | 'info' | 'warn' = 'info'): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines, events: (name) => lines.filter((l) => l['event'] === name) };
}

/** Polls `cond` every 20 ms until true or `ms` passes; returns whether it became true. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** The value of one sample in Prometheus text, or undefined. Labels must be given in exposition order. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
