/**
 * Time source for transfers, injectable so the state machine runs under a fake clock in unit tests.
 *
 * The real timer is lazy: a transfer re-arms its retransmission timer on every block, so `arm` only
 * moves a deadline (one `performance.now()`), and the one pending `Timeout`, when it fires, re-checks
 * the deadline and sleeps again for what is left. A refresh() per block re-inserted the Timeout into
 * node's timer list each time, a measurable share of a lock-step transfer's per-packet cost.
 */

export interface TimerHandle {
  /** (Re)starts the countdown; replaces any pending one. */
  arm(ms: number): void;
  cancel(): void;
}

export interface Clock {
  now(): number;
  timer(onFire: () => void): TimerHandle;
}

/** A timeout that fires within this many ms of its deadline fires (node timers have 1 ms granularity). */
const SLACK_MS = 1;

export const realClock: Clock = {
  now: () => performance.now(),
  timer(onFire) {
    let t: NodeJS.Timeout | undefined;
    let due = 0; // when the countdown ends
    let firesAt = 0; // when the pending Timeout fires
    const schedule = (ms: number): void => {
      firesAt = performance.now() + ms;
      t = setTimeout(check, ms);
    };
    const check = (): void => {
      t = undefined;
      const left = due - performance.now();
      if (left > SLACK_MS) schedule(left);
      else onFire();
    };
    return {
      arm(ms) {
        due = performance.now() + ms;
        if (t !== undefined) {
          if (firesAt <= due + SLACK_MS) return; // fires first, then sleeps for the rest
          clearTimeout(t); // the new deadline is earlier than the pending one
        }
        schedule(ms);
      },
      cancel() {
        if (t !== undefined) clearTimeout(t);
        t = undefined;
      },
    };
  },
};
