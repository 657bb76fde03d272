/**
 * The load of the cold DHCP bench: Kea's flood rate, checked against Kea itself. Asked for far more than
 * any server answers, Kea answers some rate; on a small machine, where perfdhcp shares the cores with the
 * server, offering that rate can still be more than any server completes (seen on a 2-core VM: Kea
 * answered 8,857/s to a flood but lost 26 % when offered 8,900/s, completing 6,551/s like every other
 * server). A "< 1 % failed at Kea's flood rate" floor is only meaningful at a rate Kea itself, cold,
 * completes: so the rate is stepped down until a cold Kea run loses under 1 %.
 */

/** Most cold Kea runs the check makes before it takes the last rate tried. */
export const MAX_RATE_CHECKS = 4;

/** Under this share of failed exchanges a rate counts as sustained (the floor's own threshold). */
export const SUSTAINED_FAILED_PCT = 1;

/** A rate rounded down to a multiple of 100/s (never below 100/s). */
export const roundRate = (r: number): number => Math.max(100, Math.floor(r / 100) * 100);

/**
 * The rate to check next after a cold Kea run at `offered` completed `completed` exchanges/s with
 * `failedPct` % failed; undefined when Kea sustained `offered`. The next is just under what Kea
 * completed (98 %), and at least 5 % below `offered`, so each check moves.
 */
export function nextRateToCheck(offered: number, completed: number, failedPct: number): number | undefined {
  if (failedPct < SUSTAINED_FAILED_PCT) return undefined;
  return roundRate(Math.min(offered * 0.95, completed * 0.98));
}

/** One cold Kea run of the check, for the row's note. */
export interface RateCheck {
  offered: number;
  completed: number;
  failedPct: number;
}

/** "Kea's flood rate 8857/s; cold Kea at 8900/s lost 26.38 %, at 6400/s 0.01 %". */
export function rateNote(flood: number, checks: readonly RateCheck[]): string {
  const parts = checks.map(
    (c, i) => `${i === 0 ? 'cold Kea at ' : 'at '}${c.offered}/s ${i === 0 ? 'lost ' : ''}${c.failedPct.toFixed(2)} %`,
  );
  return `Kea's flood rate ${flood.toFixed(0)}/s${parts.length ? `; ${parts.join(', ')}` : ''}`;
}
