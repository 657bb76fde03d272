/**
 * DHCP from a cold start (`BENCH_ONLY=dhcp-cold npm run bench`, or node --conditions=source --import tsx
 * bench/dhcp-cold.ts): what a server that has just started gives when every machine boots at once.
 * First Kea's flood rate is measured (perfdhcp asking far more than any server answers, 5 s); then, in
 * rounds that alternate the order (BENCH_DHCP_COLD_ROUNDS, default 3), each target is started fresh
 * and, with no warm-up, perfdhcp offers new clients at that rate for 10 s. Rows: exchanges/s, % failed,
 * and the server's CPU time per completed exchange (utime + stime from /proc, over the run), median over
 * rounds. Targets: Kea (memfile, the CPU reference), dnsmasq (lease file), pxekit with the lease-file store
 * and with the memory store (and both from BENCH_PXEKIT_BASELINE's checkout when set: targets/pxekit-dhcp.ts).
 */
import { loadavg } from 'node:os';
import { isMain, progress, selectTargets, withBenchLan } from './lib/bench-lan.js';
import { perfdhcp, type PerfRun } from './lib/perfdhcp.js';
import { relayedDhcp } from './lib/relay-lan.js';
import { printTable } from './lib/report.js';
import { startServer } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
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
    // The load: Kea's flood rate (what it answers when asked for far more), unless BENCH_DHCP_COLD_RATE says.
    let rate = Number(process.env.BENCH_DHCP_COLD_RATE ?? 0);
    if (!rate) {
      const kea = keaDhcp();
      const s = await startServer(kea, base);
      try {
        const flood = await perfdhcp(lan, 20_000, CLIENTS, 5);
        rate = Math.max(100, Math.round(flood.rate / 100) * 100);
        progress(`dhcp-cold: Kea's flood rate ${flood.rate.toFixed(0)}/s; cold runs at ${rate}/s`);
      } finally {
        await s.stop();
      }
    }
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
          `runs ${rs.map((r) => r.rate.toFixed(0)).join(', ')}; load ${loads}`,
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

if (isMain(import.meta.url)) {
  runDhcpColdBench()
    .then((rows) => printTable('DHCP from a cold start', rows))
    .catch((e: Error) => {
      process.stderr.write(`bench dhcp-cold failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
