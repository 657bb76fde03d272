/**
 * Interleaved rounds for the rate-search benches (dhcp.ts, dhcp6.ts): every target is measured once per
 * round and each round starts with the next target, so a slow spell of a shared machine is spread over
 * all of them; the row is the median of the rounds, every round in its note with the load around it.
 */
import { loadavg } from 'node:os';
import { progress } from './bench-lan.js';
import type { PerfRun } from './perfdhcp.js';
import type { TargetRuns } from './target-runs.js';

/** One round's result for one target and load. */
export interface Sample {
  /** Highest sustained rate of the round (0 when none held). */
  rate: number;
  trail: string;
  anomalies: string;
  load: string;
}

/** The 1-minute load average, one decimal. */
export const load1 = (): string => loadavg()[0]!.toFixed(1);

/** A round's sample from its search result; `before` is the load when the round started. */
export const sample = (best: PerfRun | undefined, trail: string, before: string): Sample => ({
  rate: best?.rate ?? 0,
  trail,
  anomalies: best?.anomalies ?? '',
  load: `${before}→${load1()}`,
});

/** Rates on a coarse grid (two significant digits), so rounds try comparable steps. */
export const nice = (r: number): number => {
  const p = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(r, 25))) - 1);
  return Math.max(25, Math.round(r / p) * p);
};

export const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
};

/** The order of round `r` (0-based): the targets rotated by r. */
export const roundOrder = <T>(targets: readonly T[], r: number): T[] =>
  targets.map((_, i) => targets[(i + r) % targets.length]!);

/** "1,234/s (tried …; load 1.2→1.4), …": every round of a row, for its note. */
export const roundsNote = (xs: readonly Sample[]): string =>
  'rounds: ' +
  xs
    .map((x) => `${x.rate.toFixed(0)}/s (tried ${x.trail}${x.anomalies ? `; ${x.anomalies}` : ''}; load ${x.load})`)
    .join(', ');

/** What a rate-search bench keeps per target over its rounds; `error` ends the target's rounds. */
export interface RoundTally {
  fresh: Sample[];
  known: Sample[];
  /** The target's servers: peak RSS and lease-log replays over all rounds. */
  runs: TargetRuns;
  error?: string;
}

/**
 * Runs `rounds` interleaved rounds of `round` over the targets (round r starts with target r), each
 * target with its own tally; a target whose round throws is skipped from then on, its error kept.
 */
export async function runRounds<T extends { name: string }, S extends RoundTally>(
  bench: string,
  targets: readonly T[],
  rounds: number,
  tallies: Map<T, S>,
  round: (t: T, tally: S) => Promise<void>,
): Promise<void> {
  progress(`${bench}: ${rounds} rounds x ${targets.map((t) => t.name).join(', ')}, load ${load1()}`);
  for (let r = 0; r < rounds; r++) {
    for (const t of roundOrder(targets, r)) {
      const tally = tallies.get(t)!;
      if (tally.error) continue;
      try {
        await round(t, tally);
      } catch (e) {
        tally.error = (e as Error).message;
        progress(`${bench} ${t.name}: skipped: ${tally.error}`);
      }
    }
  }
}
