/**
 * DHCP benchmark: perfdhcp relayed from the client stack (giaddr 10.78.0.2) against each target in
 * the server namespace, same load, same run length (SECONDS per step), in BENCH_DHCP_ROUNDS interleaved
 * rounds (default 3; each round starts with the next target), the median of the rounds reported:
 *  - new-client rate: fresh server per step (warmed up 1 s with 200 clients), then up to 60,000
 *    random MACs, rate search (<1 % failed);
 *  - known-client rate: 500 clients that already hold leases, rate search from the new-client rate;
 *  - peak RSS of the server over all its runs.
 * Targets: dnsmasq with its lease file (the ratio reference), dnsmasq --leasefile-ro, Kea (memfile),
 * pxekit with the memory store and with the durable lease-file store. After each pxekit-file run
 * its lease log is replayed to check that no address was ever given to two clients at once.
 * Usage: npm run bench:dhcp   (BENCH_TARGETS=dnsmasq,pxekit-file to choose; BENCH_DHCP_ROUNDS=n; BENCH_CPU_PROF=dir;
 *   BENCH_DHCP_LAN=name runs in other namespaces than pxbdhcp, beside a full `npm run bench`)
 */
import { runScaleoutBench } from './scaleout.js';
import { withBenchLan, isMain, progress, selectTargets } from './lib/bench-lan.js';
import { perfdhcp, searchRate } from './lib/perfdhcp.js';
import { load1, median, nice, roundsNote, runRounds, sample, type RoundTally } from './lib/rounds.js';
import { relayedDhcp } from './lib/relay-lan.js';
import { printTable, rowOf } from './lib/report.js';
import type { BaseContext } from './lib/server.js';
import { TargetRuns } from './lib/target-runs.js';
import type { Row, Target } from './lib/types.js';
import { dnsmasqDhcp } from './targets/dnsmasq.js';
import { keaDhcp } from './targets/kea.js';
import { pxekitDhcp } from './targets/pxekit-dhcp.js';

const SECONDS = 3;
// 6 steps for every target: with 4, a target whose start rate was 2x too high spent two steps
// descending and reported the last passing power-of-two step (e.g. 750 when 1,100 held).
const NEW_STEPS = 6;
/** Later rounds start at the previous round's best, so fewer steps find the limit again. */
const LATER_NEW_STEPS = 4;
const ROUNDS = Number(process.env.BENCH_DHCP_ROUNDS ?? 3);
const KNOWN_STEPS = 3;
const KNOWN_CLIENTS = 500;
const WARM_CLIENTS = 200;
/** First rate tried per target (from earlier runs), so that 4 steps land near the limit. */
const START_RATE: Record<string, number> = {
  dnsmasq: 250,
  'dnsmasq-ro': 600,
  kea: 1500,
  pxekit: 3000,
  'pxekit-file': 3000,
};

// dnsmasq with its lease file comes first: the reference for the floors (pxekit's durable
// store ≥ 4× it for new clients, ≥ 1× for known clients).
export const dhcpTargets = (): Target[] => [
  dnsmasqDhcp(true),
  dnsmasqDhcp(false),
  keaDhcp(),
  pxekitDhcp('memory'),
  pxekitDhcp('file'),
];

export async function runDhcpBench(targets = selectTargets(dhcpTargets())): Promise<Row[]> {
  return withBenchLan(
    { name: process.env.BENCH_DHCP_LAN ?? 'pxbdhcp', cliIp: '10.77.0.2/24', taps: 0 },
    ['perfdhcp'],
    async (lan) => {
      const base = await relayedDhcp(lan);
      const tallies = new Map<Target, RoundTally>(
        targets.map((t) => [t, { fresh: [], known: [], runs: new TargetRuns(t, base) }]),
      );
      await runRounds('dhcp', targets, ROUNDS, tallies, (t, tally) => round(t, base, tally));
      return targets.flatMap((t) => rowsFor(t, tallies.get(t)!));
    },
  );
}

/**
 * One round for one target: the new-client search (a fresh server per step), then the known-client search.
 * Round 1 starts from a per-target rate with NEW_STEPS; later rounds start at the last best, with fewer.
 */
async function round(t: Target, base: BaseContext, tally: RoundTally): Promise<void> {
  const before = load1();
  const last = tally.fresh.at(-1)?.rate;
  const fresh = await searchRate(
    (rate) =>
      tally.runs.withServer(async () => {
        // Same for every target: 1 s at a quarter of the rate with 200 clients, so that a JIT's first
        // second (node compiles the DHCP path while it runs) is not counted as the server's rate.
        await perfdhcp(base.lan, Math.max(25, Math.round(rate / 4)), WARM_CLIENTS, 1);
        return await perfdhcp(base.lan, rate, 60_000, SECONDS);
      }),
    nice(last || (START_RATE[t.name] ?? 500)),
    last ? LATER_NEW_STEPS : NEW_STEPS,
  );
  tally.fresh.push(sample(fresh.best, fresh.trail, before));
  progress(`dhcp ${t.name} new: ${fresh.trail} (load ${before})`);
  const beforeKnown = load1();
  const known = await tally.runs.withServer(async () => {
    await perfdhcp(base.lan, 500, KNOWN_CLIENTS, 3); // warm-up: ~95 % of the clients get a lease
    return searchRate(
      (r) => perfdhcp(base.lan, r, KNOWN_CLIENTS, SECONDS),
      nice(fresh.best?.requested ?? 500),
      KNOWN_STEPS,
    );
  });
  tally.known.push(sample(known.best, known.trail, beforeKnown));
  progress(`dhcp ${t.name} known: ${known.trail} (load ${beforeKnown})`);
  const { audit } = tally.runs;
  if (audit.doubles > 0)
    progress(`dhcp ${t.name}: lease log audit: ${audit.doubles} double allocations (${audit.problem})`);
}

function rowsFor(t: Target, tally: RoundTally): Row[] {
  const row = rowOf('dhcp', t);
  if (tally.error && tally.fresh.length === 0)
    return [row('new-client rate', 'leases/s', undefined, `skipped: ${tally.error.slice(0, 200)}`)];
  return [
    row('new-client rate', 'leases/s', median(tally.fresh.map((x) => x.rate)), roundsNote(tally.fresh)),
    row('known-client rate', 'leases/s', median(tally.known.map((x) => x.rate)), roundsNote(tally.known)),
    row('peak RSS', 'MiB', tally.runs.peakKiB / 1024, t.note, false),
    ...tally.runs.auditRows(row),
  ];
}

/** The floors, checked on the rows: pxekit-file vs dnsmasq (lease file) and dnsmasq-ro. */
export function floorSummary(rows: readonly Row[]): string {
  const v = (target: string, metric: string) => rows.find((r) => r.target === target && r.metric === metric)?.value;
  const lines: string[] = [];
  for (const [metric, floor] of [
    ['new-client rate', 4],
    ['known-client rate', 1],
  ] as const) {
    const file = v('pxekit-file', metric);
    for (const ref of ['dnsmasq', 'dnsmasq-ro', 'kea']) {
      const r = v(ref, metric);
      if (file === undefined || !r) continue;
      const ratio = file / r;
      const verdict = ref === 'dnsmasq' ? ` (floor ${floor}x: ${ratio >= floor ? 'met' : 'NOT met'})` : '';
      lines.push(`pxekit-file ${metric}: ${ratio.toFixed(2)}x ${ref}${verdict}`);
    }
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  runDhcpBench()
    .then(async (rows) => {
      printTable('DHCP (perfdhcp, relayed)', rows);
      process.stdout.write(`${floorSummary(rows)}\n`);
      // Scale-out (issue 9): 1, 2 and 3 instances on the Redis store next to one with the memory store.
      if (process.env['BENCH_SCALEOUT'] !== '0') await runScaleoutBench();
    })
    .catch((e: Error) => {
      process.stderr.write(`bench:dhcp failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
