/** A manual clock for ReadTransfer unit tests: timers fire only inside `advance()`. */
import type { Clock, TimerHandle } from '../../core/tftp/clock.js';

interface Entry {
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private t = 0;
  private readonly pending = new Set<Entry>();

  now(): number {
    return this.t;
  }

  timer(fn: () => void): TimerHandle {
    let entry: Entry | undefined;
    return {
      arm: (ms) => {
        if (entry) this.pending.delete(entry);
        entry = { at: this.t + ms, fn };
        this.pending.add(entry);
      },
      cancel: () => {
        if (entry) this.pending.delete(entry);
        entry = undefined;
      },
    };
  }

  get armed(): number {
    return this.pending.size;
  }

  /** Moves time forward, firing due timers in order (at most 10000, so a bug cannot spin forever). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let i = 0; i < 10_000; i++) {
      let next: Entry | undefined;
      for (const e of this.pending) if (e.at <= end && (!next || e.at < next.at)) next = e;
      if (!next) break;
      this.pending.delete(next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}
