/**
 * DHCP flood bench (`npm run bench:flood`): 10⁶ datagrams (BENCH_FLOOD_DATAGRAMS) to ports 67 and
 * 4011 — garbage and relayed DISCOVERs from random MACs — then one new machine asks for a lease the
 * moment the flood ends; the row is how long that lease took (bench/lib/flood-client.ts). Cold
 * servers, dnsmasq (lease file, no ping) as the reference, Kea and pxekit (lease-file store) beside it,
 * alternating order over BENCH_FLOOD_ROUNDS (default 2), median.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Lan } from '../test/helpers/realnet.js';
import { isMain, progress, selectTargets, withBenchLan } from './lib/bench-lan.js';
import type { FloodPlan, FloodResult } from './lib/flood-client.js';
import { RELAY } from './lib/perfdhcp.js';
import { relayedDhcp } from './lib/relay-lan.js';
import { printTable } from './lib/report.js';
import { startServer } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import { dnsmasqDhcp } from './targets/dnsmasq.js';
import { keaDhcp } from './targets/kea.js';
import { pxekitDhcp } from './targets/pxekit-dhcp.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./lib/flood-client.ts', import.meta.url));

const floodTargets = (): Target[] => [dnsmasqDhcp(true), keaDhcp(), pxekitDhcp('file')];

async function runFlood(lan: Lan, plan: FloodPlan): Promise<FloodResult> {
  const r = await lan.execIn(
    lan.cliNs,
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLIENT_SCRIPT, JSON.stringify(plan)],
    { timeoutMs: 180_000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as FloodResult;
  } catch {
    throw new Error(`flood client printed no result (exit ${r.code ?? r.signal}): ${r.stderr.trim().slice(-400)}`);
  }
}

export async function runFloodBench(targets = selectTargets(floodTargets())): Promise<Row[]> {
  const datagrams = Number(process.env.BENCH_FLOOD_DATAGRAMS ?? 1_000_000);
  const rounds = Number(process.env.BENCH_FLOOD_ROUNDS ?? 2);
  return withBenchLan({ name: 'pxbflood', cliIp: '10.77.0.2/24', taps: 0 }, [], async (lan) => {
    const base = await relayedDhcp(lan);
    const plan: FloodPlan = { server: lan.srvAddr, giaddr: RELAY.addr, datagrams };
    const results = new Map<string, FloodResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (const t of round % 2 ? [...targets].reverse() : targets) {
        progress(`flood ${t.name}: round ${round + 1}/${rounds} (load ${loadavg()[0]!.toFixed(2)})`);
        let s;
        try {
          s = await startServer(t, base);
        } catch (e) {
          progress(`flood ${t.name}: skipped: ${(e as Error).message}`);
          continue;
        }
        try {
          const r = await runFlood(lan, plan);
          progress(`flood ${t.name}: ${JSON.stringify(r)}`);
          if (r.failure) progress(`flood ${t.name}: server's last output: ${s.proc.output().trim().slice(-1500)}`);
          results.set(t.name, [...(results.get(t.name) ?? []), r]);
        } finally {
          await s.stop();
        }
      }
    }
    return [...results].map(([name, runs]): Row => {
      const ok = runs.filter((r) => r.leaseAfterMs !== undefined).map((r) => r.leaseAfterMs!);
      ok.sort((a, b) => a - b);
      const med = ok.length === runs.length ? ok[Math.floor(ok.length / 2)] : undefined;
      return {
        bench: 'dhcp-flood',
        metric: `new client leased after a ${datagrams.toLocaleString('en')}-datagram flood`,
        unit: 's',
        target: name,
        ...(med === undefined ? {} : { value: med / 1000 }),
        note: runs
          .map(
            (r) =>
              `${r.leaseAfterMs === undefined ? `no lease (${r.failure})` : `${r.leaseAfterMs} ms`} after ${r.floodMs} ms flood`,
          )
          .join('; '),
        higherIsBetter: false,
      };
    });
  });
}

if (isMain(import.meta.url)) {
  runFloodBench()
    .then((rows) => printTable('DHCP after a flood', rows))
    .catch((e: Error) => {
      process.stderr.write(`bench flood failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
