/**
 * Lease-file ACK latency across a compaction (`npm run bench:lease-file`): one store commits 110,000 new
 * leases (BENCH_LEASE_COMMITS), 200 at a time, so its log crosses the 16 MiB threshold once; the row is
 * the slowest commit (a compaction that held appends back showed there as a pause of its whole snapshot
 * write) with p50/p99 and the process CPU. Each run is a fresh process; BENCH_PXEKIT_BASELINE=<another
 * checkout> runs its plugin too, interleaved over BENCH_LEASE_ROUNDS (default 3) rounds, medians.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { median } from './lib/rounds.js';

const HERE = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL('../', import.meta.url));

interface Run {
  p50: number;
  p99: number;
  max: number;
  cpuMs: number;
}

async function measure(repo: string, commits: number): Promise<Run> {
  const mod = (await import(pathToFileURL(path.join(repo, 'plugins/lease-file/file-store.ts')).href)) as {
    FileLeaseStore: typeof import('../plugins/lease-file/file-store.js').FileLeaseStore;
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'pxk-lease-pause-'));
  const log = pino({ level: 'silent' });
  const s = new mod.FileLeaseStore({
    file: path.join(dir, 'leases.log'),
    fsync: 'batch',
    batchMs: 2,
    compactEveryBytes: 16 << 20,
    log,
  });
  await s.load();
  const lat: number[] = [];
  const hex = (n: number) => (n & 255).toString(16).padStart(2, '0');
  for (let i = 0; i < commits; i += 200) {
    await Promise.all(
      Array.from({ length: 200 }, async (_, k) => {
        const j = i + k;
        const t0 = performance.now();
        const lease = {
          mac: `02:00:00:${hex(j >> 16)}:${hex(j >> 8)}:${hex(j)}`,
          ip: `10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}`,
          expiresAt: 9e12,
          subnet: '10.0.0.0/8',
          hostname: `host-${j}-in-rack-${j % 97}`,
        };
        await s.commit(lease, 1);
        lat.push(performance.now() - t0);
      }),
    );
  }
  lat.sort((a, b) => a - b);
  const cpu = process.cpuUsage();
  await s.close();
  rmSync(dir, { recursive: true, force: true });
  const at = (p: number) => Math.round(lat[Math.floor(p * (lat.length - 1))]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), max: at(1), cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}

if (process.argv[2] === '--run') {
  process.stdout.write(JSON.stringify(await measure(process.argv[3]!, Number(process.argv[4]))) + '\n');
} else {
  const commits = Number(process.env.BENCH_LEASE_COMMITS ?? 110_000);
  const rounds = Number(process.env.BENCH_LEASE_ROUNDS ?? 3);
  const base = process.env.BENCH_PXEKIT_BASELINE;
  const targets: Array<[string, string]> = [
    ['pxekit', REPO],
    ...(base ? [['pxekit@base', path.resolve(base)] as [string, string]] : []),
  ];
  const runs = new Map<string, Run[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, repo] of r % 2 ? [...targets].reverse() : targets) {
      const load = loadavg()[0]!.toFixed(2);
      const out = execFileSync(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', HERE, '--run', repo, String(commits)],
        {
          encoding: 'utf8',
          timeout: 300_000,
        },
      );
      const run = JSON.parse(out.trim().split('\n').pop()!) as Run;
      console.error(`[lease-file] ${name} round ${r + 1}: ${JSON.stringify(run)} (load ${load})`);
      runs.set(name, [...(runs.get(name) ?? []), run]);
    }
  }
  console.log(`| target | commits | slowest commit (ms) | p99 (ms) | p50 (ms) | CPU (ms) | rounds (slowest) |`);
  console.log(`|---|---|---|---|---|---|---|`);
  for (const [name, rs] of runs) {
    const m = (k: keyof Run) => median(rs.map((x) => x[k]));
    console.log(
      `| ${name} | ${commits} | ${m('max')} | ${m('p99')} | ${m('p50')} | ${m('cpuMs')} | ${rs.map((x) => x.max).join(', ')} |`,
    );
  }
}
