/**
 * DHCP from a cold start (`BENCH_ONLY=dhcp-cold npm run bench`, or node --conditions=source --import tsx
 * bench/dhcp-cold.ts): what a server that has just started gives when every machine boots at once.
 * First the load is set: Kea's flood rate (perfdhcp asking far more than any server answers, 5 s), stepped
 * down while a cold Kea itself loses 1 % or more at it (lib/cold-rate.ts says why); then, in
 * rounds that alternate the order (BENCH_DHCP_COLD_ROUNDS, default 3), each target is started fresh
 * and, with no warm-up, perfdhcp offers new clients at that rate for 10 s. Rows: exchanges/s, % failed,
 * and the server's CPU time per completed exchange (utime + stime from /proc, over the run), median over
 * rounds. Targets: Kea (memfile, the CPU reference), dnsmasq (lease file), pxekit with the lease-file store
 * and with the memory store (and both from BENCH_PXEKIT_BASELINE's checkout when set: targets/pxekit-dhcp.ts).
 */
import { loadavg } from 'node:os';
import { isMain, progress, selectTargets, withBenchLan } from './lib/bench-lan.js';
import { MAX_RATE_CHECKS, nextRateToCheck, rateNote, roundRate, type RateCheck } from './lib/cold-rate.js';
import { perfdhcp, type PerfRun } from './lib/perfdhcp.js';
import { relayedDhcp } from './lib/relay-lan.js';
import { printTable } from './lib/report.js';
import { startServer, type BaseContext } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import type { Lan } from '../test/helpers/realnet.js';
import { dnsmasqDhcp } from './targets/dnsmasq.js';
import { keaDhcp } from './targets/kea.js';
import { baselineDhcpTargets, pxekitDhcp } from './targets/pxekit-dhcp.js';

const SECONDS = 10;
const CLIENTS = 200_000;

const coldTargets = (): Target[] => [
  keaDhcp(),
  dnsmasqDhcp(true),
  pxekitDhcp('file'),
  pxekitDhcp('memory'),
  ...baselineDhcpTargets(['file', 'memory']),
];

interface ColdRun extends PerfRun {
  cpuMsPerExchange: number;
  load: number;
}

export async function runDhcpColdBench(targets = selectTargets(coldTargets())): Promise<Row[]> {
  const rounds = Number(process.env.BENCH_DHCP_COLD_ROUNDS ?? 3);
  return withBenchLan({ name: 'pxbcold', cliIp: '10.77.0.2/24', taps: 0 }, ['perfdhcp'], async (lan) => {
    const base = await relayedDhcp(lan);
    // The load: Kea's flood rate checked against a cold Kea (lib/cold-rate.ts), unless BENCH_DHCP_COLD_RATE says.
    let rate = Number(process.env.BENCH_DHCP_COLD_RATE ?? 0);
    let rateSource = 'BENCH_DHCP_COLD_RATE';
    if (!rate) ({ rate, note: rateSource } = await keaColdRate(lan, base));
    const runs = new Map<string, ColdRun[]>();
    for (let round = 0; round < rounds; round++) {
      for (const t of round % 2 ? [...targets].reverse() : targets) {
        const load = loadavg()[0]!;
        let s;
        try {
          s = await startServer(t, base);
        } catch (e) {
          progress(`dhcp-cold ${t.name}: skipped: ${(e as Error).message}`);
          continue;
        }
        try {
          const cpu0 = s.cpuSeconds();
          const r = await perfdhcp(lan, rate, CLIENTS, SECONDS);
          const cpu = s.cpuSeconds() - cpu0;
          const run: ColdRun = { ...r, cpuMsPerExchange: r.acks > 0 ? (1000 * cpu) / r.acks : 0, load };
          progress(
            `dhcp-cold ${t.name}: ${r.rate.toFixed(0)}/s, ${r.failedPct.toFixed(2)} % failed, ` +
              `${(run.cpuMsPerExchange * 1000).toFixed(0)} µs CPU/exchange (load ${load.toFixed(2)})`,
          );
          runs.set(t.name, [...(runs.get(t.name) ?? []), run]);
        } finally {
          await s.stop();
        }
      }
    }
    const rows: Row[] = [];
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [name, rs] of runs) {
      const row = (metric: string, unit: string, value: number, note: string, higher: boolean): Row => ({
        bench: 'dhcp-cold',
        metric,
        unit,
        target: name,
        value,
        note,
        higherIsBetter: higher,
      });
      const loads = rs.map((r) => r.load.toFixed(2)).join(', ');
      rows.push(
        row(
          `new clients at ${rate}/s for ${SECONDS} s, cold`,
          'exch/s',
          med(rs.map((r) => r.rate)),
          // How the rate was set, once: on the first target's row.
          `runs ${rs.map((r) => r.rate.toFixed(0)).join(', ')}; load ${loads}${rows.length ? '' : `; rate: ${rateSource}`}`,
          true,
        ),
      );
      rows.push(
        row('failed', '%', med(rs.map((r) => r.failedPct)), rs.map((r) => r.failedPct.toFixed(2)).join(', '), false),
      );
      rows.push(
        row(
          'server CPU per exchange',
          'µs',
          med(rs.map((r) => r.cpuMsPerExchange * 1000)),
          rs.map((r) => (r.cpuMsPerExchange * 1000).toFixed(0)).join(', '),
          false,
        ),
      );
    }
    return rows;
  });
}

/**
 * Kea's flood rate (what it answers when asked for far more, 5 s), then cold Kea runs at that rate, stepped
 * down while Kea itself loses 1 % or more (at most MAX_RATE_CHECKS runs): the rate, and a note of the steps.
 */
async function keaColdRate(lan: Lan, base: BaseContext): Promise<{ rate: number; note: string }> {
  // Every run starts a fresh Kea: the flood's, and each check's (a cold one).
  const keaRun = async (offered: number, seconds: number): Promise<PerfRun> => {
    const s = await startServer(keaDhcp(), base);
    try {
      return await perfdhcp(lan, offered, CLIENTS, seconds);
    } finally {
      await s.stop();
    }
  };
  const flood = await keaRun(20_000, 5);
  let rate = roundRate(flood.rate);
  const checks: RateCheck[] = [];
  for (let i = 0; i < MAX_RATE_CHECKS; i++) {
    const r = await keaRun(rate, SECONDS);
    checks.push({ offered: rate, completed: r.rate, failedPct: r.failedPct });
    progress(`dhcp-cold: cold Kea at ${rate}/s: ${r.rate.toFixed(0)}/s completed, ${r.failedPct.toFixed(2)} % failed`);
    const next = nextRateToCheck(rate, r.rate, r.failedPct);
    if (next === undefined || i === MAX_RATE_CHECKS - 1) break; // sustained, or the last rate tried stands
    rate = next;
  }
  const note = rateNote(flood.rate, checks);
  progress(`dhcp-cold: ${note}; cold runs at ${rate}/s`);
  return { rate, note };
}

if (isMain(import.meta.url)) {
  runDhcpColdBench()
    .then((rows) => printTable('DHCP from a cold start', rows))
    .catch((e: Error) => {
      process.stderr.write(`bench dhcp-cold failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
