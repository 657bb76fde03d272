/**
 * Runs a bench inside its own realnet LAN (its own namespace prefix), always torn down:
 * on success, on error and on Ctrl-C. Also the small command-line helpers shared by the
 * bench entry points.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLan, realnetAvailable, type Lan, type LanOptions } from '../../test/helpers/realnet.js';
import type { Target } from './types.js';

export async function withBenchLan<T>(
  opts: LanOptions,
  tools: readonly string[],
  fn: (lan: Lan) => Promise<T>,
): Promise<T> {
  const why = realnetAvailable(tools);
  if (why) throw new Error(`bench needs the realnet LAN: ${why}`);
  const lan = createLan(opts);
  const onSignal = () => {
    void lan.down().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await lan.up();
    return await fn(lan);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await lan.down();
  }
}

/** Targets kept by `BENCH_TARGETS=name,name` (all when unset). */
export function selectTargets(all: readonly Target[]): Target[] {
  const want = process.env.BENCH_TARGETS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return want?.length ? all.filter((t) => want.includes(t.name)) : [...all];
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  const arg = process.argv[1];
  return arg !== undefined && url === pathToFileURL(path.resolve(arg)).href;
}

/** Progress lines go to stderr so that stdout is just the table. */
export function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

let scratchRoot: string | undefined;

/**
 * A fresh folder for bench files (configs, test data, leases) under one per-process root that
 * is deleted when the process exits (BENCH_KEEP=1 keeps it and prints where it is).
 */
export function benchDir(prefix: string): string {
  if (!scratchRoot) {
    const root = mkdtempSync(path.join(tmpdir(), 'pxk-bench-'));
    scratchRoot = root;
    process.on('exit', () => {
      if (process.env.BENCH_KEEP === '1') process.stderr.write(`bench files kept in ${root}\n`);
      else rmSync(root, { recursive: true, force: true });
    });
  }
  mkdirSync(scratchRoot, { recursive: true });
  return mkdtempSync(path.join(scratchRoot, `${prefix}-`));
}
