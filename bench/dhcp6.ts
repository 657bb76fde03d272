/**
 * DHCPv6 benchmark: `perfdhcp -6` on the client stack (on link, from its link-local address, Solicit →
 * Advertise → Request → Reply) against each target in the server namespace, every target under the same
 * perfdhcp schedule (the IPv4 DHCP bench's rate search, bench/lib/perfdhcp.ts):
 *  - new clients: a fresh server per step (1 s warm-up with 200 clients), up to 60,000 random DUIDs,
 *    perfdhcp's address-uniqueness check (-u); the highest rate with < 1 % failed exchanges, 4 steps from
 *    the target's last best;
 *  - known clients: one server, 500 clients that already hold leases (3 s warm-up), 3 steps.
 * Targets run interleaved (round r starts with target r mod n), ROUNDS rounds; the value is the median
 * over rounds, and every round's number with the 1-minute load average around it is in the note.
 * Targets: dnsmasq (its lease file, the reference), Kea kea-dhcp6 (memfile), pxekit (memory store) and
 * pxekit-file (durable lease file). No address may be given twice: perfdhcp -u counts non-unique
 * addresses, and pxekit-file's lease log is replayed after every run (targets/pxekit-lease-audit.ts).
 * Usage: npm run bench:dhcp6   (BENCH_DHCP6_ROUNDS=3, BENCH_TARGETS=dnsmasq,pxekit-file; also in npm run bench)
 */
import type { Lan } from '../test/helpers/realnet.js';
import { benchDir, isMain, progress, selectTargets, withBenchLan } from './lib/bench-lan.js';
import { parseExchanges, searchRate, type PerfRun } from './lib/perfdhcp.js';
import { printTable, rowOf } from './lib/report.js';
import { mustRun } from './lib/relay-lan.js';
import type { BaseContext } from './lib/server.js';
import { load1, median, nice, roundsNote, runRounds, sample, type RoundTally } from './lib/rounds.js';
import { TargetRuns } from './lib/target-runs.js';
import type { Row, Target } from './lib/types.js';
import { dnsmasqDhcp6, keaDhcp6, pxekitDhcp6 } from './targets/dhcp6.js';

const ROUNDS = Number(process.env.BENCH_DHCP6_ROUNDS ?? 3);
const SECONDS = 3;
const NEW_STEPS = 4;
const KNOWN_STEPS = 3;
/** First rate tried per target in round 1 (from earlier runs); later rounds start at the last best. */
const START_RATE: Record<string, number> = { dnsmasq: 250, kea: 1000, pxekit: 1000, 'pxekit-file': 1000 };
const NEW_CLIENTS = 60_000;
const KNOWN_CLIENTS = 500;
const WARM_CLIENTS = 200;
/** The bench LAN's on-link prefix: server fd78::1, client stack fd78::2; leases from fd78::1:0 on. */
const PREFIX = { prefix: 'fd78::/64', first: 'fd78::1:0', last: 'fd78::ffff:ffff' };

export const dhcp6Targets = (): Target[] => [dnsmasqDhcp6(), keaDhcp6(), pxekitDhcp6('memory'), pxekitDhcp6('file')];

async function perfdhcp6(lan: Lan, rate: number, clients: number, seconds: number, unique: boolean): Promise<PerfRun> {
  const args = ['-6', '-l', 'eth0', '-r', String(rate), '-R', String(clients), '-p', String(seconds)];
  const r = await lan.execIn(lan.cliNs, 'perfdhcp', unique ? [...args, '-u'] : args, {
    timeoutMs: (seconds + 15) * 1000,
  });
  try {
    return parseExchanges(r.stdout, rate, ['SOLICIT-ADVERTISE', 'REQUEST-REPLY']);
  } catch (e) {
    const why = r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`;
    throw new Error(`perfdhcp -6 -r ${rate} ${why}: ${(r.stderr || r.stdout).trim().slice(-300)}`, { cause: e });
  }
}

interface Tally extends RoundTally {
  nonUnique: number;
}

const nonUniqueOf = (r: PerfRun) => Number(/non-unique (\d+)/.exec(r.anomalies)?.[1] ?? 0);

/** One round for one target: the new-client search (fresh server per step), then the known-client search. */
async function round(t: Target, base: BaseContext, tally: Tally): Promise<void> {
  const before = load1();
  const start = tally.fresh.at(-1)?.rate ?? START_RATE[t.name] ?? 500;
  const fresh = await searchRate(
    (rate) =>
      tally.runs.withServer(async () => {
        await perfdhcp6(base.lan, Math.max(25, Math.round(rate / 4)), WARM_CLIENTS, 1, false);
        const r = await perfdhcp6(base.lan, rate, NEW_CLIENTS, SECONDS, true);
        tally.nonUnique += nonUniqueOf(r);
        return r;
      }),
    nice(start),
    NEW_STEPS,
  );
  tally.fresh.push(sample(fresh.best, fresh.trail, before));
  progress(`dhcp6 ${t.name} new: ${fresh.trail} (load ${before})`);
  const beforeKnown = load1();
  const known = await tally.runs.withServer(async () => {
    await perfdhcp6(base.lan, 500, KNOWN_CLIENTS, 3, false); // every known client gets its lease
    return searchRate(
      (rate) => perfdhcp6(base.lan, rate, KNOWN_CLIENTS, SECONDS, false),
      nice(fresh.best?.requested ?? start),
      KNOWN_STEPS,
    );
  });
  tally.known.push(sample(known.best, known.trail, beforeKnown));
  progress(`dhcp6 ${t.name} known: ${known.trail} (load ${beforeKnown})`);
}

function rowsFor(t: Target, tally: Tally): Row[] {
  const row = rowOf('dhcp6', t);
  if (tally.error && tally.fresh.length === 0)
    return [row('new-client rate', 'exchanges/s', undefined, `skipped: ${tally.error.slice(0, 200)}`)];
  return [
    row('new-client rate', 'exchanges/s', median(tally.fresh.map((x) => x.rate)), roundsNote(tally.fresh)),
    row('known-client rate', 'exchanges/s', median(tally.known.map((x) => x.rate)), roundsNote(tally.known)),
    row(
      'addresses given twice (perfdhcp -u)',
      'count',
      tally.nonUnique,
      `${tally.fresh.length} new-client runs`,
      false,
    ),
    row('peak RSS', 'MiB', tally.runs.peakKiB / 1024, t.note, false),
    ...tally.runs.auditRows(row),
  ];
}

export async function runDhcp6Bench(targets = selectTargets(dhcp6Targets())): Promise<Row[]> {
  return withBenchLan(
    { name: process.env.BENCH_DHCP6_LAN ?? 'pxbdhcp6', taps: 0, ipv6: true },
    ['perfdhcp'],
    async (lan) => {
      // nodad: the addresses are usable at once (no duplicate address detection wait).
      await mustRun(lan, lan.srvNs, 'ip', ['-6', 'addr', 'add', 'fd78::1/64', 'dev', 'eth0', 'nodad']);
      await mustRun(lan, lan.cliNs, 'ip', ['-6', 'addr', 'add', 'fd78::2/64', 'dev', 'eth0', 'nodad']);
      const base: BaseContext = { lan, service: 'dhcp6', root: benchDir('dhcp6-root'), pool6: PREFIX };
      const tallies = new Map<Target, Tally>(
        targets.map((t) => [t, { fresh: [], known: [], nonUnique: 0, runs: new TargetRuns(t, base) }]),
      );
      await runRounds('dhcp6', targets, ROUNDS, tallies, (t, tally) => round(t, base, tally));
      return targets.flatMap((t) => rowsFor(t, tallies.get(t)!));
    },
  );
}

if (isMain(import.meta.url)) {
  const t0 = Date.now();
  void runDhcp6Bench().then((rows) => {
    printTable(
      `pxekit DHCPv6 bench (${new Date().toISOString().slice(0, 16)}Z, ${((Date.now() - t0) / 1000).toFixed(0)} s, load ${load1()})`,
      rows,
    );
  });
}
