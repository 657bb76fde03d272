/**
 * Server CPU and packets per GiB of HTTP body, nginx against pxekit (a diagnostic beside bench/http.ts,
 * which measures rates): CONC curl processes at once in the client namespace, each downloading a
 * SIZE_MIB sparse file REQS times over one keep-alive connection, REPS times per server start; the
 * server's user+sys CPU (process tree, /proc) and the packets its interfaces sent (GSO packets counted
 * once) per GiB of body. Targets start fresh in turn each round, the order alternating; the median over
 * rounds is printed with every run.
 * Environment (BENCH_HTTP_CPU_*): ROUNDS (5), REPS (4), CONC (20), SIZE_MIB (64), REQS (1),
 * NGINX=0 (pxekit only), VARIANTS='name:K=V,K=V;name2:' (pxekit started with extra environment, e.g.
 * PXEKIT_SENDFILE_CORK=0; BENCH_BIN=<other checkout>/bin/pxekit.js runs that build: old vs new),
 * PERF=stat|record (perf on the server while it sends; PERF_DIR, PERF_EVENTS).
 * Usage: npm run bench:http-cpu
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { Lan } from '../test/helpers/realnet.js';
import { benchDir, isMain, progress, withBenchLan } from './lib/bench-lan.js';
import { MiB, writeSparseFile } from './lib/loads.js';
import { startServer, treePids, treeUserSysSeconds, type BaseContext } from './lib/server.js';
import type { Target } from './lib/types.js';
import { nginxHttp } from './targets/http-servers.js';
import { pxekitTarget } from './targets/pxekit.js';

const env = (k: string, d: number) => Number(process.env[`BENCH_HTTP_CPU_${k}`] ?? d);
const FILE = 'body.bin';
const GiB = 1024 * MiB;

function withEnv(t: Target, name: string, extra: NodeJS.ProcessEnv): Target {
  return {
    ...t,
    name,
    async prepare(ctx) {
      const spec = await t.prepare(ctx);
      // BENCH_BIN=<path of another checkout's bin/pxekit.js>: that build instead (old vs new A/B).
      const { BENCH_BIN: bin, ...vars } = extra;
      const args = bin ? spec.args.map((a) => (a.endsWith(path.join('bin', 'pxekit.js')) ? bin : a)) : spec.args;
      return { ...spec, args, env: { ...spec.env, ...vars } };
    },
  };
}

function targets(): Target[] {
  const spec = process.env.BENCH_HTTP_CPU_VARIANTS;
  const pxekits = !spec
    ? [pxekitTarget()]
    : spec.split(';').map((v) => {
        const [name, kv = ''] = v.split(':');
        const vars = Object.fromEntries(
          kv
            .split(',')
            .filter(Boolean)
            .map((p) => p.split('=')),
        );
        return withEnv(pxekitTarget(), `pxekit-${name}`, vars);
      });
  return [...(process.env.BENCH_HTTP_CPU_NGINX === '0' ? [] : [nginxHttp()]), ...pxekits];
}

/** BENCH_HTTP_CPU_PERF='stat' or 'record': perf on the server's processes while `fn` runs. */
async function underPerf<T>(pid: number | undefined, label: string, fn: () => Promise<T>): Promise<T> {
  const mode = process.env.BENCH_HTTP_CPU_PERF;
  if (!mode || pid === undefined) return fn();
  const pids = treePids(pid).join(',');
  const out = path.join(process.env.BENCH_HTTP_CPU_PERF_DIR ?? '/tmp', `perf-${label}`);
  const events = process.env.BENCH_HTTP_CPU_PERF_EVENTS ?? 'task-clock,context-switches';
  const args =
    mode === 'record'
      ? ['record', '-g', '-p', pids, '-o', `${out}.data`]
      : ['stat', '-e', events, '-p', pids, '-o', `${out}.txt`];
  const p = spawn('perf', args, { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  try {
    return await fn();
  } finally {
    p.kill('SIGINT');
    await new Promise((r) => p.once('exit', r));
  }
}

/** User and system CPU seconds of the server's process tree (nginx's workers too). */
const userSys = (pid: number | undefined): [number, number] => (pid === undefined ? [0, 0] : treeUserSysSeconds(pid));

/** Packets sent by the server namespace's interfaces but lo. */
async function packetsOut(lan: Lan): Promise<number> {
  const r = await lan.execIn(lan.srvNs, 'cat', ['/proc/net/dev'], { timeoutMs: 5000 });
  let n = 0;
  for (const l of r.stdout.split('\n').slice(2)) {
    const [name, rest] = l.split(':');
    if (rest && name!.trim() !== 'lo') n += Number(rest.trim().split(/\s+/)[9]);
  }
  return n;
}

/** `conc` curls at once, each fetching `url` `reqs` times on one connection; bytes of complete bodies. */
async function download(lan: Lan, url: string, conc: number, reqs: number, size: number): Promise<number> {
  const urls = Array.from({ length: reqs }, () => `-o /dev/null ${url}`).join(' ');
  const curl = `curl -s --max-time 120 -w '%{size_download}\\n' ${urls}`;
  const r = await lan.execIn(lan.cliNs, 'bash', ['-c', `for i in $(seq 1 ${conc}); do ${curl} & done; wait`], {
    timeoutMs: 150_000,
  });
  const ok = r.stdout.split('\n').filter((l) => Number(l) === size).length;
  if (ok !== conc * reqs) throw new Error(`${conc * reqs - ok} of ${conc * reqs} downloads incomplete`);
  return ok * size;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const list = (xs: number[], d: number) => xs.map((v) => v.toFixed(d)).join(' ');

async function main(): Promise<void> {
  const [rounds, reps, conc, reqs] = [env('ROUNDS', 5), env('REPS', 4), env('CONC', 20), env('REQS', 1)];
  const size = env('SIZE_MIB', 64) * MiB;
  const all = targets();
  const root = benchDir('http-cpu');
  writeSparseFile(path.join(root, FILE), size);
  progress(`${conc} x ${reqs} x ${size / MiB} MiB, ${reps} times per start, ${rounds} rounds`);
  await withBenchLan({ name: 'pxbhcpu', cliIp: '10.77.0.2/24', taps: 0 }, ['curl'], async (lan) => {
    const base: BaseContext = { lan, service: 'http', root };
    const res = new Map(
      all.map((t) => [
        t.name,
        { cpu: [] as number[], user: [] as number[], pkts: [] as number[], mibps: [] as number[] },
      ]),
    );
    const url = `http://${lan.srvAddr}/${FILE}`;
    for (let round = 0; round < rounds; round++) {
      for (const t of round % 2 ? [...all].reverse() : all) {
        const server = await startServer(t, base);
        try {
          await download(lan, url, 1, 1, size); // unmeasured, as bench/http.ts's concurrent row
          const [u0, p0, t0] = [userSys(server.proc.pid), await packetsOut(lan), performance.now()];
          let bytes = 0;
          await underPerf(server.proc.pid, `${t.name}-${round + 1}`, async () => {
            for (let i = 0; i < reps; i++) bytes += await download(lan, url, conc, reqs, size);
          });
          const gib = bytes / GiB;
          const u1 = userSys(server.proc.pid);
          const [user, sys] = [(u1[0] - u0[0]) / gib, (u1[1] - u0[1]) / gib];
          const [cpu, pkts] = [user + sys, ((await packetsOut(lan)) - p0) / gib];
          const mibps = bytes / MiB / ((performance.now() - t0) / 1000);
          const r = res.get(t.name)!;
          r.cpu.push(cpu);
          r.user.push(user);
          r.pkts.push(pkts);
          r.mibps.push(mibps);
          const load = loadavg()[0]!.toFixed(2);
          const what = `cpu ${cpu.toFixed(3)} s/GiB (user ${user.toFixed(3)}), ${pkts.toFixed(0)} pkts/GiB`;
          progress(`round ${round + 1} ${t.name}: ${what}, load ${load}`);
        } finally {
          await server.stop();
        }
      }
    }
    for (const [name, r] of res) {
      process.stdout.write(
        `${name}: cpu ${median(r.cpu).toFixed(3)} s/GiB [${list(r.cpu, 3)}], user ${median(r.user).toFixed(3)}, ` +
          `${median(r.pkts).toFixed(0)} pkts/GiB, ${median(r.mibps).toFixed(0)} MiB/s [${list(r.mibps, 0)}]\n`,
      );
    }
  });
}

if (isMain(import.meta.url)) {
  main().catch((e: Error) => {
    process.stderr.write(`bench http-cpu failed: ${e.message}\n`);
    process.exitCode = 1;
  });
}
