/**
 * DHCP benchmark: perfdhcp relayed from the client stack (giaddr 10.78.0.2) against each
 * target in the server namespace, same load, same run:
 *  - new-client rate: fresh server per step, up to 60,000 random MACs, rate search (<1 % failed);
 *  - known-client rate: 500 clients that already hold leases, rate search from the new-client rate;
 *  - peak RSS of the server over all its runs.
 * Usage: npm run bench:dhcp   (BENCH_TARGETS=dnsmasq,kea to choose)
 */
import type { Lan } from '../test/helpers/realnet.js';
import { benchDir, withBenchLan, isMain, progress, selectTargets } from './lib/bench-lan.js';
import { perfdhcp, RELAY, searchRate, type PerfRun } from './lib/perfdhcp.js';
import { printTable } from './lib/report.js';
import { startServer, type BaseContext } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import { dnsmasqDhcp } from './targets/dnsmasq.js';
import { keaDhcp } from './targets/kea.js';
import { pxekitTarget } from './targets/pxekit.js';

const SECONDS = 3;
const NEW_STEPS = 6;
const KNOWN_STEPS = 4;
const KNOWN_CLIENTS = 500;

// dnsmasq with leases in memory comes first: it is the ratio reference, and like pxekit's
// default lease store; dnsmasq's own default (a lease file rewritten per change) is far slower.
export const dhcpTargets = (): Target[] => [dnsmasqDhcp(false), dnsmasqDhcp(true), keaDhcp(), pxekitTarget()];

export async function runDhcpBench(targets = selectTargets(dhcpTargets())): Promise<Row[]> {
  return withBenchLan({ name: 'pxbdhcp', cliIp: '10.77.0.2/24', taps: 0 }, ['perfdhcp'], async (lan) => {
    // The client stack acts as a relay for 10.78.0.0/16; the server routes replies back to it.
    await mustRun(lan, lan.cliNs, 'ip', ['addr', 'add', RELAY.cidr, 'dev', 'eth0']);
    await mustRun(lan, lan.srvNs, 'ip', ['route', 'add', RELAY.subnet, 'via', '10.77.0.2']);
    const base: BaseContext = {
      lan, service: 'dhcp', root: benchDir('dhcp-root'),
      pool: { subnet: RELAY.subnet, netmask: '255.255.0.0', prefix: 16, first: '10.78.0.10', last: '10.78.255.250', router: RELAY.addr },
    };
    const rows: Row[] = [];
    for (const t of targets) rows.push(...(await benchTarget(t, base)));
    return rows;
  });
}

async function benchTarget(t: Target, base: BaseContext): Promise<Row[]> {
  const row = (metric: string, unit: string, value: number | undefined, note: string, higherIsBetter = true): Row =>
    ({ bench: 'dhcp', metric, unit, target: t.name, value, note, higherIsBetter });
  let peak = 0;
  const measureFresh = async (rate: number): Promise<PerfRun> => {
    const s = await startServer(t, base);
    try { return await perfdhcp(base.lan, rate, 60_000, SECONDS); } finally { peak = Math.max(peak, s.peakRssKiB()); await s.stop(); }
  };
  try {
    progress(`dhcp ${t.name}: new-client rate search`);
    const fresh = await searchRate(measureFresh, 500, NEW_STEPS);
    progress(`dhcp ${t.name}: ${fresh.trail}`);
    const s = await startServer(t, base);
    let known;
    try {
      await perfdhcp(base.lan, 500, KNOWN_CLIENTS, 3); // warm-up: ~95 % of the clients get a lease
      known = await searchRate((r) => perfdhcp(base.lan, r, KNOWN_CLIENTS, SECONDS), fresh.best?.requested ?? 500, KNOWN_STEPS);
      progress(`dhcp ${t.name}: known ${known.trail}`);
    } finally { peak = Math.max(peak, s.peakRssKiB()); await s.stop(); }
    const note = (r: PerfRun | undefined, trail: string) => `${r ? `${r.failedPct.toFixed(2)}% failed${r.anomalies ? `, ${r.anomalies}` : ''}; ` : ''}tried ${trail}`;
    return [
      row('new-client rate', 'leases/s', fresh.best?.rate ?? 0, note(fresh.best, fresh.trail)),
      row('known-client rate', 'leases/s', known.best?.rate ?? 0, note(known.best, known.trail)),
      row('peak RSS', 'MiB', peak / 1024, t.note, false),
    ];
  } catch (e) {
    progress(`dhcp ${t.name}: skipped: ${(e as Error).message}`);
    return [row('new-client rate', 'leases/s', undefined, `skipped: ${(e as Error).message.slice(0, 200)}`)];
  }
}

async function mustRun(lan: Lan, ns: string, cmd: string, args: string[]): Promise<void> {
  const r = await lan.execIn(ns, cmd, args, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns}: ${r.stderr}`);
}

if (isMain(import.meta.url)) {
  runDhcpBench().then((rows) => printTable('DHCP (perfdhcp, relayed)', rows)).catch((e: Error) => {
    process.stderr.write(`bench:dhcp failed: ${e.message}\n`);
    process.exitCode = 1;
  });
}
