/**
 * Time source for transfers, injectable so the state machine runs under a fake clock in unit tests.
 * The real timer reuses one `Timeout` and `refresh()`es it, so re-arming per packet allocates nothing.
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

export const realClock: Clock = {
  now: () => performance.now(),
  timer(onFire) {
    let t: NodeJS.Timeout | undefined;
    let current = -1;
    return {
      arm(ms) {
        if (t !== undefined && ms === current) {
          t.refresh();
          return;
        }
        if (t !== undefined) clearTimeout(t);
        current = ms;
        t = setTimeout(onFire, ms);
      },
      cancel() {
        if (t !== undefined) clearTimeout(t);
        t = undefined;
        current = -1;
      },
    };
  },
};
