/**
 * Rate limit for log lines a flood can repeat once per packet (a socket error per oversized datagram, a
 * failed send per reply, a dropped reply): without it, junk at line rate becomes millions of log lines.
 *
 * Per kind (the line's `event`, its `err.code` and an optional key: `dhcp.socket.error:EMSGSIZE`): the first line is
 * written at once and opens an interval; lines of that kind within the interval are only counted. When the
 * interval ends with some held back, the last of them is written with `suppressed` (how many were held back,
 * that one included) and a new interval opens. So a steady flood writes one line per kind per interval, and
 * the count of the last burst is written within one interval of its end, not at the next packet. `flush()`
 * (at close) writes what is still held back.
 */
import type { Logger } from 'pino';

/** Time source, injectable for tests (core/tftp/clock.ts's Clock and the tests' FakeClock fit it). */
export interface LimitClock {
  now(): number;
  timer(onFire: () => void): { arm(ms: number): void; cancel(): void };
}

const realClock: LimitClock = {
  now: () => performance.now(),
  timer(onFire) {
    let t: NodeJS.Timeout | undefined;
    const cancel = () => {
      if (t !== undefined) clearTimeout(t);
      t = undefined;
    };
    return {
      arm(ms) {
        cancel();
        // unref: a held-back count never keeps the process alive (close() flushes it).
        t = setTimeout(onFire, ms).unref();
      },
      cancel,
    };
  },
};

type Level = 'warn' | 'error';

/** A log object with its event name (and the error, whose errno code is part of the kind). */
export type LimitedLine = { event: string; err?: unknown } & Record<string, unknown>;

interface Held {
  log: Logger;
  level: Level;
  obj: LimitedLine;
  msg: string;
  count: number;
}

interface KindState {
  until: number;
  held: Held | undefined;
  timer: ReturnType<LimitClock['timer']>;
}

export interface LogLimitOptions {
  /** Length of an interval (default 1000 ms). */
  intervalMs?: number;
  clock?: LimitClock;
}

export class LogLimiter {
  readonly #intervalMs: number;
  readonly #clock: LimitClock;
  readonly #kinds = new Map<string, KindState>();

  constructor(opts: LogLimitOptions = {}) {
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#clock = opts.clock ?? realClock;
  }

  /** `log.warn(obj, msg)`, unless a line of its kind was written less than an interval ago. */
  warn(log: Logger, obj: LimitedLine, msg: string, key = ''): void {
    this.#write(log, 'warn', obj, msg, key);
  }

  /** `log.error(obj, msg)`, unless a line of its kind was written less than an interval ago. */
  error(log: Logger, obj: LimitedLine, msg: string, key = ''): void {
    this.#write(log, 'error', obj, msg, key);
  }

  /** Writes every kind's held-back line now (with its count) and stops the timers. */
  flush(): void {
    for (const s of this.#kinds.values()) {
      s.timer.cancel();
      this.#release(s);
    }
    this.#kinds.clear();
  }

  #write(log: Logger, level: Level, obj: LimitedLine, msg: string, key: string): void {
    const code = (obj.err as { code?: unknown } | undefined)?.code;
    const kind = `${obj.event}:${typeof code === 'string' ? code : ''}:${key}`;
    const now = this.#clock.now();
    let s = this.#kinds.get(kind);
    if (s && now < s.until) {
      s.held = { log, level, obj, msg, count: (s.held?.count ?? 0) + 1 };
      if (s.held.count === 1) s.timer.arm(s.until - now);
      return;
    }
    if (!s) {
      const state: KindState = { until: 0, held: undefined, timer: this.#clock.timer(() => this.#endInterval(state)) };
      s = state;
      this.#kinds.set(kind, s);
    }
    s.until = now + this.#intervalMs;
    log[level](obj, msg);
  }

  #endInterval(s: KindState): void {
    if (!s.held) return;
    s.until = this.#clock.now() + this.#intervalMs;
    this.#release(s);
  }

  #release(s: KindState): void {
    const h = s.held;
    if (!h) return;
    s.held = undefined;
    h.log[h.level]({ ...h.obj, suppressed: h.count }, h.msg);
  }
}
