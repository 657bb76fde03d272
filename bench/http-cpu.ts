/**
 * Server CPU per GiB of HTTP body: 20 concurrent curl downloads of a 64 MiB sparse file (the http
 * bench's concurrent row), repeated, with the server's user+sys CPU (process tree, /proc) and the TCP
 * segments it sent (nstat in the server namespace) per GiB. Targets alternate each round; variants of
 * pxekit are the same build started with extra environment (BENCH_HTTP_CPU_VARIANTS='a:K=V,K=V;b:...').
 * Usage: node --conditions=source --import tsx bench/http-cpu.ts (BENCH_HTTP_CPU_ROUNDS, default 5)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { benchDir, isMain, progress, withBenchLan } from './lib/bench-lan.js';
import { curlConcurrent, curlOnce, MiB, writeSparseFile } from './lib/loads.js';
import { startServer, type BaseContext } from './lib/server.js';
import type { Target } from './lib/types.js';
import { nginxHttp } from './targets/http-servers.js';
import { pxekitTarget } from './targets/pxekit.js';

const FILE = 'mid.bin';
const SIZE = 64 * MiB;
const N = 20;
const GiB = 1024 * MiB;

function withEnv(t: Target, name: string, env: NodeJS.ProcessEnv): Target {
  return {
    ...t,
    name,
    async prepare(ctx) {
      const spec = await t.prepare(ctx);
      return { ...spec, env: { ...spec.env, ...env } };
    },
  };
}

function variants(): Target[] {
  const spec = process.env.BENCH_HTTP_CPU_VARIANTS;
  if (!spec) return [pxekitTarget()];
  return spec.split(';').map((v) => {
    const [name, kv = ''] = v.split(':');
    const env = Object.fromEntries(
      kv
        .split(',')
        .filter(Boolean)
        .map((p) => p.split('=')),
    );
    return withEnv(pxekitTarget(), `pxekit-${name}`, env);
  });
}

function treePids(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < 100; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const c = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (c) out.push(...c.split(/\s+/).map(Number));
      }
    } catch {
      /* gone */
    }
  }
  return out;
}

/** BENCH_HTTP_CPU_PERF='stat' or 'record': perf on the server's processes while `fn` runs. */
async function underPerf<T>(pid: number | undefined, label: string, fn: () => Promise<T>): Promise<T> {
  const mode = process.env.BENCH_HTTP_CPU_PERF;
  if (!mode || pid === undefined) return fn();
  const pids = treePids(pid).join(',');
  const out = path.join(process.env.BENCH_HTTP_CPU_PERF_DIR ?? '/tmp', `perf-${label}`);
  const args =
    mode === 'record'
      ? ['record', '-g', '-p', pids, '-o', `${out}.data`]
      : [
          'stat',
          '-e',
          process.env.BENCH_HTTP_CPU_PERF_EVENTS ?? 'task-clock,context-switches',
          '-p',
          pids,
          '-o',
          `${out}.txt`,
        ];
  const p = spawn('perf', args, { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  try {
    return await fn();
  } finally {
    p.kill('SIGINT');
    await new Promise((r) => p.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_HTTP_CPU_ROUNDS ?? 5);
  const targets = [...(process.env.BENCH_HTTP_CPU_NGINX === '0' ? [] : [nginxHttp()]), ...variants()];
  const root = benchDir('http-cpu');
  writeSparseFile(path.join(root, FILE), SIZE);
  await withBenchLan({ name: 'pxbhcpu', cliIp: '10.77.0.2/24', taps: 0 }, ['curl', 'nstat'], async (lan) => {
    const base: BaseContext = { lan, service: 'http', root };
    const res = new Map(
      targets.map((t) => [t.name, { cpu: [] as number[], segs: [] as number[], mibps: [] as number[] }]),
    );
    // Packets (skbs, GSO super-packets counted once) sent by the server's interfaces but lo.
    const segsOut = async () => {
      const r = await lan.execIn(lan.srvNs, 'cat', ['/proc/net/dev'], { timeoutMs: 5000 });
      let n = 0;
      for (const l of r.stdout.split('\n').slice(2)) {
        const [name, rest] = l.split(':');
        if (!rest || name!.trim() === 'lo') continue;
        n += Number(rest.trim().split(/\s+/)[9]);
      }
      return n;
    };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...targets].reverse() : targets;
      for (const t of order) {
        const server = await startServer(t, base);
        try {
          const url = `http://${lan.srvAddr}/${FILE}`;
          await curlOnce(lan, url, SIZE, [], 60);
          const c0 = server.cpuSeconds();
          const s0 = await segsOut();
          const reps = Number(process.env.BENCH_HTTP_CPU_REPS ?? 4);
          const tr = { bytes: 0, ms: 0, mibps: 0, failed: 0, detail: '' };
          await underPerf(server.proc.pid, `${t.name}-${round + 1}`, async () => {
            for (let i = 0; i < reps; i++) {
              const one = await curlConcurrent(lan, url, N, SIZE, [], 120);
              tr.bytes += one.bytes;
              tr.ms += one.ms;
              tr.failed += one.failed;
              tr.detail ||= one.detail;
            }
          });
          tr.mibps = tr.bytes / MiB / (tr.ms / 1000);
          const cpu = server.cpuSeconds() - c0;
          const segs = (await segsOut()) - s0;
          const gib = tr.bytes / GiB;
          const r = res.get(t.name)!;
          r.cpu.push(cpu / gib);
          r.segs.push(segs / gib);
          r.mibps.push(tr.mibps);
          progress(
            `round ${round + 1} ${t.name}: ${tr.mibps.toFixed(0)} MiB/s, cpu ${(cpu / gib).toFixed(3)} s/GiB, ` +
              `${(segs / gib).toFixed(0)} pkts/GiB${tr.failed ? `, ${tr.detail}` : ''}, load ${loadavg()[0]!.toFixed(2)}`,
          );
        } finally {
          await server.stop();
        }
      }
    }
    for (const [name, r] of res) {
      process.stdout.write(
        `${name}: median cpu ${median(r.cpu).toFixed(3)} s/GiB [${r.cpu.map((v) => v.toFixed(3)).join(' ')}], ` +
          `pkts/GiB ${median(r.segs).toFixed(0)}, MiB/s ${median(r.mibps).toFixed(0)} [${r.mibps.map((v) => v.toFixed(0)).join(' ')}]\n`,
      );
    }
  });
}

if (isMain(import.meta.url)) {
  main().catch((e: Error) => {
    process.stderr.write(`bench http-cpu failed: ${e.stack}\n`);
    process.exitCode = 1;
  });
}
