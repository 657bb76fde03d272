/**
 * Boot-storm benchmark (`npm run bench:storm`): N simulated machines (default 500) power on within
 * 2 s, each with its own MAC and, once leased, its own source address in the client namespace. Each
 * does relayed DHCP DORA with firmware-like retries, TFTP of the boot file it was given (EDK2's tsize
 * probe, blksize 1468), then HTTP of a 4 MiB kernel and a 16 MiB initrd over keep-alive, checking
 * sizes (bench/lib/storm-machines.ts). The same storm runs against pxekit (full DHCP with its durable
 * lease file, TFTP, HTTP) and against dnsmasq (DHCP with its lease file + TFTP) with nginx, cold servers
 * (started fresh for every round, no warm-up), alternating which goes first, median round by wall time.
 * Usage: npm run bench:storm   (BENCH_STORM_MACHINES=500, BENCH_STORM_ROUNDS=5, BENCH_TARGETS=pxekit,dnsmasq;
 * BENCH_STORM_POOL=<addresses> sizes the pool (default 2 × machines: dnsmasq, which does not hold its offers,
 * then leases every machine, so both stacks boot the same machines; machines + 24, a tight pool, makes dnsmasq
 * NAK 5-14 % of them, and its wall then covers fewer boots);
 * BENCH_STORM_HTTP=0 stops each machine after TFTP, to look at the DHCP and TFTP stages alone;
 * BENCH_STORM_WORKERS=N runs the machines' TFTP and HTTP on N threads, default one per core;
 * BENCH_STORM_DUMP=<dir> writes every round's per-machine results as <stack>-<round>.json;
 * BENCH_PXEKIT_BASELINE=<dir> adds a `pxekit-base` stack: another build, see targets/pxekit.ts pxekitBaseBin)
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lan } from '../test/helpers/realnet.js';
import { benchDir, isMain, progress, withBenchLan } from './lib/bench-lan.js';
import { printTable } from './lib/report.js';
import { mustRun } from './lib/relay-lan.js';
import { pxekitBaseBin } from './targets/pxekit.js';
import { startServer, type BaseContext, type RunningServer } from './lib/server.js';
import type { StormPlan, StormResult } from './lib/storm-machines.js';
import { median, summarizeStorm, timeToBooted, type StormSummary } from './lib/storm-stats.js';
import type { Row, Target } from './lib/types.js';
import { stormDnsmasq, stormPxekit } from './targets/storm.js';
import { nginxHttp } from './targets/http-servers.js';

const MACHINES_SCRIPT = fileURLToPath(new URL('./lib/storm-machines.ts', import.meta.url));
const IPXE_EFI = '/usr/lib/ipxe/ipxe.efi';
const GIADDR = '10.78.0.2';
const FILES = [
  { path: '/vmlinuz', size: 4 << 20 },
  { path: '/initrd.img', size: 16 << 20 },
];

interface Stack {
  name: string;
  targets: Target[];
}

/** With BENCH_PXEKIT_BASELINE, also a `pxekit-base` stack: another build, rounds interleaved with this one. */
const stacks = (): Stack[] => {
  const baseBin = pxekitBaseBin();
  return [
    { name: 'dnsmasq+nginx', targets: [stormDnsmasq(), nginxHttp()] },
    { name: 'pxekit', targets: [stormPxekit()] },
    ...(baseBin ? [{ name: 'pxekit-base', targets: [stormPxekit(baseBin, 'pxekit-base')] }] : []),
  ];
};

/** The storm's pool: `size` consecutive addresses from 10.78.1.1 (all hosts of the relayed /16). */
function poolFor(size: number): { first: string; last: string; addresses: string[] } {
  const base = (10 << 24) | (78 << 16) | (1 << 8) | 1;
  const addresses = Array.from({ length: size }, (_, i) => {
    const v = base + i;
    return `${v >>> 24}.${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`;
  });
  return { first: addresses[0]!, last: addresses[addresses.length - 1]!, addresses };
}

function makeFiles(): { root: string; bootFileSize: number } {
  const root = benchDir('storm-files');
  const bootFile = path.join(root, 'ipxe.efi');
  if (existsSync(IPXE_EFI)) copyFileSync(IPXE_EFI, bootFile);
  else writeFileSync(bootFile, randomBytes(1 << 20));
  for (const f of FILES) writeFileSync(path.join(root, f.path), randomBytes(f.size));
  writeFileSync(path.join(root, 'boot.ipxe'), '#!ipxe\nkernel /vmlinuz\ninitrd /initrd.img\nboot\n');
  return { root, bootFileSize: statSync(bootFile).size };
}

async function runStorm(lan: Lan, plan: StormPlan): Promise<StormResult> {
  const r = await lan.execIn(
    lan.cliNs,
    process.execPath,
    ['--conditions=source', '--import', 'tsx', MACHINES_SCRIPT, JSON.stringify(plan)],
    { timeoutMs: plan.machineTimeoutMs + plan.spreadMs + 30_000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as StormResult;
  } catch {
    throw new Error(`storm machines printed no result (exit ${r.code ?? r.signal}): ${r.stderr.trim().slice(-400)}`);
  }
}

export async function runStormBench(): Promise<Row[]> {
  const machines = Number(process.env.BENCH_STORM_MACHINES ?? 500);
  const rounds = Number(process.env.BENCH_STORM_ROUNDS ?? 5);
  const want = process.env.BENCH_TARGETS?.split(',').map((s) => s.trim());
  const chosen = stacks().filter((s) => !want?.length || want.some((w) => s.name.startsWith(w)));
  const { root, bootFileSize } = makeFiles();
  const pool = poolFor(Number(process.env.BENCH_STORM_POOL ?? 2 * machines));
  return withBenchLan({ name: 'pxbstorm', cliIp: '10.77.0.2/24', taps: 0 }, ['dnsmasq', 'nginx'], async (lan) => {
    // The client stack is the relay for 10.78.0.0/16 and holds every address a machine may lease
    // (so its TFTP and HTTP leave from that address); the server routes the subnet back to it.
    await mustRun(lan, lan.cliNs, 'ip', ['addr', 'add', `${GIADDR}/16`, 'dev', 'eth0']);
    const batch = path.join(benchDir('storm-ip'), 'addrs.batch');
    writeFileSync(batch, pool.addresses.map((a) => `addr add ${a}/32 dev eth0\n`).join(''));
    await mustRun(lan, lan.cliNs, 'ip', ['-batch', batch]);
    await mustRun(lan, lan.srvNs, 'ip', ['route', 'add', '10.78.0.0/16', 'via', '10.77.0.2']);
    const base: BaseContext = {
      lan,
      service: 'boot',
      root,
      pool: {
        subnet: '10.78.0.0/16',
        netmask: '255.255.0.0',
        prefix: 16,
        first: pool.first,
        last: pool.last,
        router: GIADDR,
      },
    };
    const plan: StormPlan = {
      machines,
      spreadMs: 2000,
      giaddr: GIADDR,
      server: lan.srvAddr,
      http: process.env.BENCH_STORM_HTTP === '0' ? [] : FILES,
      bootFileSize,
      machineTimeoutMs: 120_000,
      ...(process.env.BENCH_STORM_WORKERS ? { workers: Number(process.env.BENCH_STORM_WORKERS) } : {}),
    };
    const results = new Map<string, RoundResult[]>();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? chosen : [...chosen].reverse();
      for (const stack of order) {
        const load = loadavg()
          .map((l) => l.toFixed(2))
          .join(' ');
        progress(`storm ${stack.name}: round ${round + 1}/${rounds}, ${machines} machines (load ${load})`);
        const running: RunningServer[] = [];
        const dumpAs = `${stack.name}-${round + 1}.json`;
        try {
          for (const t of stack.targets) running.push(await startServer(t, base));
          const cpu0 = running.map((r) => r.cpuSeconds());
          const result = await runStorm(lan, plan);
          const dump = process.env.BENCH_STORM_DUMP;
          if (dump) writeFileSync(path.join(dump, dumpAs), JSON.stringify(result.machines));
          const s = summarizeStorm(result);
          // Per server process (dnsmasq and nginx apart): which stage the reference's CPU goes to.
          const cpuByTarget = running.map((r, i) => ({ name: stack.targets[i]!.name, s: r.cpuSeconds() - cpu0[i]! }));
          const serverCpuS = cpuByTarget.reduce((a, t) => a + t.s, 0);
          const rssMiB = Math.round(running.reduce((a, r) => a + r.peakRssKiB(), 0) / 1024);
          progress(
            `storm ${stack.name}: wall ${(s.wallMs / 1000).toFixed(1)} s, failed ${s.failed} (${s.failedNote}), ` +
              `p99 ${(s.p99Ms / 1000).toFixed(1)} s, ${s.stagesNote}; CPU server ${serverCpuS.toFixed(2)} s` +
              `${cpuByTarget.length > 1 ? ` (${cpuSplit(cpuByTarget)})` : ''}, ` +
              `client ${(s.clientCpuMs / 1000).toFixed(1)} s; TFTP timeouts ${s.tftpTimeouts} ` +
              `(${s.machinesWithTftpTimeouts} machines), out-of-order DATA ${s.tftpOutOfOrder}`,
          );
          const round = { ...s, rssMiB, load, serverCpuS, cpuByTarget };
          results.set(stack.name, [...(results.get(stack.name) ?? []), round]);
        } finally {
          await Promise.all(running.map((r) => r.stop()));
        }
      }
    }
    return toRows(results, machines, rounds, pool.addresses.length);
  });
}

type RoundResult = StormSummary & {
  rssMiB: number;
  load: string;
  serverCpuS: number;
  cpuByTarget: Array<{ name: string; s: number }>;
};

const cpuSplit = (t: RoundResult['cpuByTarget']) => t.map((x) => `${x.name} ${x.s.toFixed(1)} s`).join(', ');

function toRows(results: Map<string, RoundResult[]>, n: number, rounds: number, poolSize: number): Row[] {
  const rows: Row[] = [];
  // The same work for every stack: machines the reference NAKs stop early and leave it less to do, so the
  // wall to ITS last machine covers fewer machines than pxekit's. Time to k booted machines, k the fewest
  // any stack booted in any round, compares equal numbers (the other stack still carries its extra ones).
  const k = Math.min(...[...results.values()].flatMap((runs) => runs.map((r) => n - r.failed)));
  for (const [name, runs] of results) {
    const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
    const med = sorted[Math.floor(sorted.length / 2)]!;
    const walls = runs.map((r) => (r.wallMs / 1000).toFixed(1)).join(', ');
    const row = (metric: string, unit: string, value: number, note: string): Row => ({
      bench: 'storm',
      metric,
      unit,
      target: name,
      value,
      note,
      higherIsBetter: false,
    });
    rows.push(
      row(
        `${n} machines: power-on to last machine booted`,
        's',
        med.wallMs / 1000,
        `median of ${rounds} cold rounds: ${walls}; pool ${poolSize} addresses; load ${med.load}`,
      ),
    );
    if (k > 0) {
      const toK = runs.map((r) => timeToBooted(r, k)!);
      rows.push(
        row(
          `${n} machines: power-on to ${k} machines booted (same work)`,
          's',
          median(toK) / 1000,
          `median of ${rounds} rounds: ${toK.map((t) => (t / 1000).toFixed(1)).join(', ')}; ${k} = fewest any stack booted`,
        ),
      );
    }
    rows.push(row(`${n} machines: failed`, 'machines', med.failed, med.failedNote || 'none'));
    // Wall time alone favours a stack that drops machines (they stop early and leave the CPU to the
    // rest): machines booted per second of wall time compares the work done.
    rows.push({
      ...row(
        `${n} machines: booted per second of wall time`,
        'machines/s',
        (n - med.failed) / (med.wallMs / 1000),
        `${n - med.failed} booted in ${(med.wallMs / 1000).toFixed(1)} s`,
      ),
      higherIsBetter: true,
    });
    rows.push(row(`${n} machines: per machine p50`, 's', med.p50Ms / 1000, med.stagesNote));
    rows.push(row(`${n} machines: per machine p95`, 's', med.p95Ms / 1000, ''));
    rows.push(row(`${n} machines: per machine p99`, 's', med.p99Ms / 1000, `peak RSS ${med.rssMiB} MiB`));
    // CPU is far less disturbed by other load than wall time: the median of every round, not the median-wall round's.
    const cpus = runs.map((r) => r.serverCpuS);
    const split = med.cpuByTarget.length > 1 ? `median-wall round ${cpuSplit(med.cpuByTarget)}; ` : '';
    rows.push(
      row(
        `${n} machines: server CPU (user + system)`,
        's',
        median(cpus),
        `rounds ${cpus.map((c) => c.toFixed(1)).join(', ')}; ${split}client process ${(med.clientCpuMs / 1000).toFixed(1)} s ` +
          `(${med.workers} threads); TFTP timeouts ${med.tftpTimeouts} on ${med.machinesWithTftpTimeouts} machines; ` +
          `out-of-order DATA ${med.tftpOutOfOrder}`,
      ),
    );
    const perMachine = runs.map((r) => (r.serverCpuS * 1000) / Math.max(1, n - r.failed));
    rows.push(
      row(
        `${n} machines: server CPU per booted machine`,
        'ms',
        median(perMachine),
        `rounds ${perMachine.map((c) => c.toFixed(1)).join(', ')}`,
      ),
    );
  }
  return rows;
}

if (isMain(import.meta.url)) {
  runStormBench()
    .then((rows) => printTable('Boot storm', rows))
    .catch((e: Error) => {
      process.stderr.write(`bench storm failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
