/**
 * TFTP benchmark: the same downloads against each target, in one run, from the client stack:
 * 100 MiB with curl and atftp at blksize 1468 (71,431 blocks: past the 16-bit block number
 * rollover), atftp with windowsize 8 and 16 (RFC 7440), then 20 and 200 concurrent 8 MiB
 * curl downloads (with both dnsmasq and pxekit selected, every row but the windowsize ones runs interleaved,
 * median of runs); peak server RSS. Interleaved rows also note the server's CPU (user + system) per DATA
 * block of each run: on this machine the lock-step loads are CPU-bound, and CPU is what a server changes.
 * Usage: npm run bench:tftp   (BENCH_TARGETS=dnsmasq,pxekit to choose; BENCH_TFTP_LOADS=regex keeps
 * the loads whose name matches, e.g. BENCH_TFTP_LOADS='blksize 1468' for the two lock-step rows;
 * BENCH_TFTP_RUNS=n lock-step runs per row, median reported, default 3; BENCH_PXEKIT_BASELINE=<dir>: another pxekit
 * build in dnsmasq's place in the interleaved rows, see targets/pxekit.ts)
 */
import path from 'node:path';
import { benchDir, withBenchLan, isMain, progress, selectTargets } from './lib/bench-lan.js';
import { atftpOnce, curlConcurrent, curlOnce, MiB, writeRandomFile, type Transfer } from './lib/loads.js';
import { printTable } from './lib/report.js';
import { startServer, type BaseContext, type RunningServer } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import { dnsmasqTftp } from './targets/dnsmasq.js';
import { pxekitBaseBin, pxekitTarget } from './targets/pxekit.js';

const BIG = 100 * MiB;
const LOCKSTEP_RUNS = Number(process.env.BENCH_TFTP_RUNS ?? 3);

/** Runs `f` n times (stopping at a failure) and returns the run with the median speed, all speeds in its note. */
async function medianOf(n: number, f: () => Promise<Transfer>): Promise<Transfer> {
  const runs: Transfer[] = [];
  for (let i = 0; i < n; i++) {
    const x = await f();
    runs.push(x);
    if (x.failed) return x;
  }
  return median(runs);
}

/** The run with the median speed (a failed run if any failed), every speed in its note. */
function median(runs: Transfer[]): Transfer {
  const bad = runs.find((r) => r.failed);
  if (bad) return bad;
  const sorted = [...runs].sort((a, b) => a.mibps - b.mibps);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const all = runs.map((r) => r.mibps.toFixed(1)).join(', ');
  const cpu = runs.every((r) => r.serverUsPerBlock !== undefined)
    ? `server CPU ${runs.map((r) => r.serverUsPerBlock!.toFixed(1)).join(', ')} µs/block`
    : '';
  const detail = [mid.detail, `median of ${runs.length}: ${all} MiB/s`, cpu].filter(Boolean).join('; ');
  return { ...mid, detail };
}
const SMALL = 8 * MiB;

export const tftpTargets = (): Target[] => [dnsmasqTftp(), pxekitTarget()];

export async function runTftpBench(targets = selectTargets(tftpTargets())): Promise<Row[]> {
  const root = benchDir('tftp-files');
  progress('tftp: writing 100 MiB + 8 MiB test files');
  await writeRandomFile(path.join(root, 'big.bin'), BIG);
  await writeRandomFile(path.join(root, 'small.bin'), SMALL);
  return withBenchLan({ name: 'pxbtftp', cliIp: '10.77.0.2/24', taps: 0 }, ['curl', 'atftp'], async (lan) => {
    const base: BaseContext = { lan, service: 'tftp', root };
    const rows: Row[] = [];
    // The lock-step rows are latency-bound and swing with the shared machine's load: with dnsmasq and
    // pxekit both selected they run interleaved (both servers up, runs alternating), so drift hits both.
    const interleaved = targets.length === 2 && targets[0]!.name === 'dnsmasq' && targets[1]!.name === 'pxekit';
    // BENCH_PXEKIT_BASELINE: another pxekit build takes dnsmasq's place in the interleaved rows (A/B of two builds).
    const baseBin = pxekitBaseBin();
    const ref = baseBin ? { ...pxekitTarget(undefined, baseBin), name: 'pxekit-base' } : targets[0]!;
    if (interleaved) rows.push(...(await lockStepInterleaved(ref, targets[1]!, base, root)));
    for (const t of targets) rows.push(...(await benchTarget(t, base, root, interleaved)));
    return rows;
  });
}

/**
 * Loads run interleaved when dnsmasq and pxekit are both selected: lock-step single transfers and the
 * concurrent curl loads, each the median of BENCH_TFTP_RUNS alternating runs (a shared machine's load drifts).
 */
const LOCKSTEP = [
  'curl 100 MiB blksize 1468',
  'atftp 100 MiB blksize 1468',
  '20 x 8 MiB curl (total)',
  '200 x 8 MiB curl (total)',
] as const;

/** One run of an interleaved load against `server` on `port`, with the server's CPU per DATA block. */
function interleavedRun(
  metric: string,
  lan: BaseContext['lan'],
  server: RunningServer,
  port: number,
  scratch: string,
): Promise<Transfer> {
  const url = (f: string) => `tftp://${lan.srvAddr}:${port}/${f}`;
  if (metric.startsWith('curl'))
    return withServerCpu(server, blocksOf(BIG), () =>
      curlOnce(lan, url('big.bin'), BIG, ['--tftp-blksize', '1468'], 60),
    );
  if (metric.startsWith('atftp'))
    return withServerCpu(server, blocksOf(BIG), () =>
      atftpOnce(lan, 'big.bin', BIG, ['blksize 1468'], scratch, 60, port),
    );
  const n = metric.startsWith('200') ? 200 : 20;
  return withServerCpu(server, n * blocksOf(SMALL), () =>
    curlConcurrent(lan, url('small.bin'), n, SMALL, ['--tftp-blksize', '1468'], n === 200 ? 90 : 60),
  );
}

/** DATA blocks of a blksize-1468 transfer of `size` bytes (the last one short, possibly empty). */
const blocksOf = (size: number) => Math.floor(size / 1468) + 1;

/**
 * Runs `f` and adds the server's CPU time (user + system, from /proc: 10 ms ticks) per DATA block it
 * sent to the detail: on this machine the lock-step loads are CPU-bound, and CPU is what a server changes.
 */
async function withServerCpu(server: RunningServer, blocks: number, f: () => Promise<Transfer>): Promise<Transfer> {
  const cpu0 = server.cpuSeconds();
  const x = await f();
  if (x.failed) return x;
  return { ...x, serverUsPerBlock: ((server.cpuSeconds() - cpu0) * 1e6) / blocks };
}
/** pxekit's TFTP port while it runs beside dnsmasq (which always listens on 69). */
const SIDE_PORT = 6969;

/** dnsmasq on 69 and pxekit on SIDE_PORT at once; each lock-step load alternates between them. */
async function lockStepInterleaved(ref: Target, px: Target, base: BaseContext, scratch: string): Promise<Row[]> {
  const only = process.env.BENCH_TFTP_LOADS ? new RegExp(process.env.BENCH_TFTP_LOADS) : undefined;
  const loads = LOCKSTEP.filter((m) => !only || only.test(m));
  if (loads.length === 0) return [];
  const a = await startServer(ref, base);
  let b;
  try {
    b = await startServer(px, { ...base, tftpPort: SIDE_PORT, httpPort: 8080 });
  } catch (e) {
    await a.stop();
    throw e;
  }
  const { lan } = base;
  const rows: Row[] = [];
  try {
    for (const metric of loads) {
      const runs: Record<string, Transfer[]> = { [ref.name]: [], [px.name]: [] };
      for (let i = 0; i < LOCKSTEP_RUNS; i++) {
        for (const [t, server, port] of [
          [ref, a, 69],
          [px, b, SIDE_PORT],
        ] as const) {
          progress(`tftp ${t.name}: ${metric} (interleaved run ${i + 1}/${LOCKSTEP_RUNS})`);
          runs[t.name]!.push(await interleavedRun(metric, lan, server, port, scratch));
        }
      }
      for (const t of [ref, px]) {
        const x = median(runs[t.name]!);
        rows.push(transferRow(t, metric, x, 'interleaved'));
      }
    }
  } finally {
    await b.stop();
    await a.stop();
  }
  return rows;
}

/** A throughput cell: empty when nothing arrived; the note holds the detail and the time. */
function transferRow(t: Target, metric: string, x: Transfer, how?: string): Row {
  return {
    bench: 'tftp',
    metric,
    unit: 'MiB/s',
    target: t.name,
    value: x.failed && x.bytes === 0 ? undefined : x.mibps,
    note: [x.detail, how, `${(x.ms / 1000).toFixed(1)} s`].filter(Boolean).join('; '),
    higherIsBetter: true,
  };
}

async function benchTarget(t: Target, base: BaseContext, scratch: string, lockStepDone = false): Promise<Row[]> {
  const rows: Row[] = [];
  const add = (metric: string, x: Transfer) => rows.push(transferRow(t, metric, x));
  let server;
  try {
    server = await startServer(t, base);
  } catch (e) {
    progress(`tftp ${t.name}: skipped: ${(e as Error).message}`);
    return [
      {
        bench: 'tftp',
        metric: 'curl 100 MiB blksize 1468',
        unit: 'MiB/s',
        target: t.name,
        note: `skipped: ${(e as Error).message.slice(0, 200)}`,
        higherIsBetter: true,
      },
    ];
  }
  const { lan } = base;
  const url = (f: string) => `tftp://${lan.srvAddr}/${f}`;
  try {
    // After a failed single transfer the remaining loads are skipped: a server that cannot
    // send 100 MiB would only burn each load's timeout (keeps `npm run bench` bounded).
    let broken = '';
    const only = process.env.BENCH_TFTP_LOADS ? new RegExp(process.env.BENCH_TFTP_LOADS) : undefined;
    const step = async (metric: string, f: () => Promise<Transfer>) => {
      if (only && !only.test(metric)) return;
      if (lockStepDone && (LOCKSTEP as readonly string[]).includes(metric)) return;
      if (broken) {
        rows.push({
          bench: 'tftp',
          metric,
          unit: 'MiB/s',
          target: t.name,
          note: `skipped after failure: ${broken}`,
          higherIsBetter: true,
        });
        return;
      }
      progress(`tftp ${t.name}: ${metric}`);
      const x = await f();
      add(metric, x);
      if (x.failed && x.bytes === 0) broken = metric;
    };
    // Lock-step is latency-bound, and one 5 s transfer on a shared machine swings ±5–10 %: the median of
    // LOCKSTEP_RUNS (the note lists every run).
    await step('curl 100 MiB blksize 1468', () =>
      medianOf(LOCKSTEP_RUNS, () => curlOnce(lan, url('big.bin'), BIG, ['--tftp-blksize', '1468'], 60)),
    );
    await step('atftp 100 MiB blksize 1468', () =>
      medianOf(LOCKSTEP_RUNS, () => atftpOnce(lan, 'big.bin', BIG, ['blksize 1468'], scratch, 60)),
    );
    await step('atftp 100 MiB windowsize 8', () =>
      atftpOnce(lan, 'big.bin', BIG, ['blksize 1468', 'windowsize 8'], scratch, 60),
    );
    await step('atftp 100 MiB windowsize 16', () =>
      atftpOnce(lan, 'big.bin', BIG, ['blksize 1468', 'windowsize 16'], scratch, 60),
    );
    await step('20 x 8 MiB curl (total)', () =>
      curlConcurrent(lan, url('small.bin'), 20, SMALL, ['--tftp-blksize', '1468'], 60),
    );
    await step('200 x 8 MiB curl (total)', () =>
      curlConcurrent(lan, url('small.bin'), 200, SMALL, ['--tftp-blksize', '1468'], 90),
    );
  } finally {
    rows.push({
      bench: 'tftp',
      metric: 'peak RSS',
      unit: 'MiB',
      target: t.name,
      value: server.peakRssKiB() / 1024,
      note: t.note,
      higherIsBetter: false,
    });
    await server.stop();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  runTftpBench()
    .then((rows) => printTable('TFTP', rows))
    .catch((e: Error) => {
      process.stderr.write(`bench:tftp failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
