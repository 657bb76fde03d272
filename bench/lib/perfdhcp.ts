/**
 * perfdhcp (Kea's DHCPv4 load generator) as a relay on the client stack, and a short,
 * bounded search for the highest rate a server sustains with under 1 % failed exchanges.
 */
import type { Lan } from '../../test/helpers/realnet.js';

export interface PerfRun {
  requested: number;
  /** Completed 4-way exchanges per second as perfdhcp reports it. */
  rate: number;
  discovers: number;
  acks: number;
  /** Share of started exchanges (DISCOVERs) that did not end in an ACK, in percent. */
  failedPct: number;
  /** Non-zero "rejected leases" / "non unique addresses" counts, if any. */
  anomalies: string;
}

/** Relay address on the client stack (giaddr) and the server's address. */
export const RELAY = { addr: '10.78.0.2', cidr: '10.78.0.2/16', subnet: '10.78.0.0/16' };

export async function perfdhcp(lan: Lan, rate: number, clients: number, seconds: number): Promise<PerfRun> {
  const r = await lan.execIn(
    lan.cliNs,
    'perfdhcp',
    ['-4', '-l', RELAY.addr, '-r', String(rate), '-R', String(clients), '-p', String(seconds), lan.srvAddr],
    { timeoutMs: (seconds + 15) * 1000 },
  );
  try {
    return parsePerfdhcp(r.stdout, rate);
  } catch (e) {
    const why = r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`;
    throw new Error(`perfdhcp -r ${rate} ${why}: ${(r.stderr || r.stdout).trim().slice(-300)}`, { cause: e });
  }
}

/** Parse perfdhcp's statistics (Kea 2.2 text format); throws when it has none. */
export function parsePerfdhcp(out: string, requested: number): PerfRun {
  return parseExchanges(out, requested, ['DISCOVER-OFFER', 'REQUEST-ACK']);
}

/**
 * The same for either family: `exchanges` names perfdhcp's two statistics sections (DHCPv4
 * DISCOVER-OFFER + REQUEST-ACK, DHCPv6 SOLICIT-ADVERTISE + REQUEST-REPLY). `discovers`/`acks`
 * count the first exchange's sent and the second's received packets.
 */
export function parseExchanges(out: string, requested: number, exchanges: readonly [string, string]): PerfRun {
  const rate = /Rate: ([\d.]+) 4-way exchanges\/second/.exec(out);
  const section = (name: string) => {
    const s = out.split(`***Statistics for: ${name}***`)[1] ?? '';
    const num = (label: string) => Number(new RegExp(`${label}: (\\d+)`).exec(s)?.[1] ?? NaN);
    return {
      sent: num('sent packets'),
      received: num('received packets'),
      rejected: num('rejected leases'),
      nonUnique: num('non unique addresses'),
    };
  };
  const doSec = section(exchanges[0]);
  const raSec = section(exchanges[1]);
  if (!rate || !Number.isFinite(doSec.sent) || !Number.isFinite(raSec.received)) {
    throw new Error(`perfdhcp printed no statistics: ${out.slice(-500)}`);
  }
  const anomalies = [
    doSec.rejected + raSec.rejected > 0 ? `rejected ${doSec.rejected + raSec.rejected}` : '',
    doSec.nonUnique + raSec.nonUnique > 0 ? `non-unique ${doSec.nonUnique + raSec.nonUnique}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const failedPct = doSec.sent > 0 ? (100 * (doSec.sent - raSec.received)) / doSec.sent : 100;
  return {
    requested,
    rate: Number(rate[1]),
    discovers: doSec.sent,
    acks: raSec.received,
    failedPct: Math.max(0, failedPct),
    anomalies,
  };
}

/** Sustained: under 1 % failed and at least 90 % of the requested rate achieved. */
export const sustained = (r: PerfRun) => r.failedPct < 1 && r.rate >= 0.9 * r.requested;

export interface Search {
  best?: PerfRun;
  trail: string;
}

/**
 * Doubling from `start` until a rate fails, then halving the gap, for at most `maxSteps`
 * runs (so the time is bounded by maxSteps x one run); stops when the gap is within 10 %.
 */
export async function searchRate(
  measure: (rate: number) => Promise<PerfRun>,
  start: number,
  maxSteps: number,
  cap = 32_000,
): Promise<Search> {
  let best: PerfRun | undefined;
  let bad: number | undefined;
  let rate = start;
  const trail: string[] = [];
  for (let step = 0; step < maxSteps && rate >= 25 && rate <= cap; step++) {
    const r = await measure(rate);
    const ok = sustained(r);
    trail.push(`${rate}${ok ? '+' : `-(${r.failedPct.toFixed(1)}%)`}`);
    if (ok) best = r;
    else bad = rate;
    const good = best?.requested;
    if (bad === undefined) rate *= 2;
    else if (good === undefined) rate = Math.round(rate / 2);
    else if (bad - good <= good * 0.1) break;
    else rate = Math.round((good + bad) / 2);
  }
  return { best, trail: trail.join(' ') };
}
