/**
 * A fake clock for tests where timing matters (session TTLs, lease expiry, retries, watchers that poll,
 * a status page's "stalled after"): `Date.now()`, `setTimeout` and `setInterval` follow the clock, and
 * `advance()` lets promise chains started by a timer run before the next timer fires, so async taps
 * behave as they would in real time, only faster. Built on node:test's mock timers, scoped to one test.
 */
import type { TestContext } from 'node:test';

export interface FakeClock {
  /** The fake wall clock in ms (what `Date.now()` returns). */
  now(): number;
  /**
   * Moves time forward by `ms`, in steps of at most `stepMs` (default 10): due timers fire in order,
   * and after each step pending promise callbacks and I/O callbacks get to run.
   */
  advance(ms: number, stepMs?: number): Promise<void>;
}

// Taken before any test mocks the timers: the real macrotask to yield with.
const realSetImmediate = setImmediate;
const yieldToEventLoop = () => new Promise<void>((r) => realSetImmediate(r));

/** Installs a fake clock for the rest of test `t` (restored when it ends). `start` is the initial Date.now(). */
export function useFakeClock(t: TestContext, start = Date.UTC(2026, 0, 1)): FakeClock {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: start });
  let now = start;
  return {
    now: () => now,
    async advance(ms, stepMs = 10) {
      if (!(ms >= 0) || !(stepMs > 0)) throw new RangeError('advance(ms, stepMs): ms >= 0 and stepMs > 0');
      const end = now + ms;
      await yieldToEventLoop();
      while (now < end) {
        const step = Math.min(stepMs, end - now);
        t.mock.timers.tick(step);
        now += step;
        await yieldToEventLoop();
      }
    },
  };
}
