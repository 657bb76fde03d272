import {
  AsyncParallelBailHook,
  AsyncSeriesBailHook,
  AsyncSeriesWaterfallHook,
  SyncBailHook,
  SyncWaterfallHook,
} from 'tapable';
import { HookError, PxeError } from '../errors.js';
import { raceTimer } from '../util/race-timer.js';

/** Named stages for `tap({ name, stage })`: lower runs first; equal stages keep config order. */
export const STAGE_FIRST = -100;
export const STAGE_EARLY = -10;
export const STAGE_DEFAULT = 0;
export const STAGE_LATE = 10;
export const STAGE_LAST = 100;

/** One finished tap call, for metrics (hook durations by plugin and hook). */
export interface TapTiming {
  hook: string;
  plugin: string;
  durationMs: number;
  ok: boolean;
}

export interface HookRunnerOptions {
  /** Default timeout for async taps, shorter than a firmware's DHCP/TFTP retransmit (about 4 s). */
  asyncTimeoutMs?: number;
  /** Per-hook timeouts by full hook name, e.g. `{ 'server.ready': 120000 }`. */
  timeouts?: Record<string, number>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tapable's taps take any arguments
type AnyFn = (...args: any[]) => any;
/** tapable's internal tap record (not exported by its typings). */
interface Tap {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: AnyFn;
  stage?: number;
}
/** The part of a tapable hook the runner needs (tapable does not export its base class type). */
export interface AnyHook {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tapable's Tap type is not exported
  intercept(interceptor: { register?: (tap: any) => any }): void;
  /** Always true for runner hooks (the runner intercepts every hook): test `taps.length` instead. */
  isUsed(): boolean;
  taps: ReadonlyArray<{ name: string; stage?: number; type: string }>;
}

/**
 * Wraps every tap of every registered hook so that:
 * - an error thrown or rejected by a tap becomes a `HookError` naming the plugin and the hook;
 * - an async tap that does not settle within its timeout is cut off with `PXE_ERR_HOOK_TIMEOUT`;
 * - tapping after `seal()` (server started) throws `PXE_ERR_HOOK_SEALED`;
 * - taps are attributed to the plugin whose `apply` is running, whatever name they pass.
 * Order is tapable's: by numeric `stage`, then registration order (= config order). We never use `before`.
 */
export class HookRunner {
  readonly #asyncTimeoutMs: number;
  readonly #timeouts: Record<string, number>;
  readonly #hooks = new Map<string, AnyHook>();
  readonly #timingObservers = new Set<(t: TapTiming) => void>();
  readonly #bailHooks = new Set<string>();
  readonly #waterfallHooks = new Set<string>();
  /** Results of bail hooks → the plugin that returned them; a WeakMap so results are never mutated. */
  readonly #decidedBy = new WeakMap<object, string>();
  #sealed = false;
  /** The plugin whose `apply` is running (see `applying`). */
  #applying: string | undefined;

  constructor(opts: HookRunnerOptions = {}) {
    this.#asyncTimeoutMs = opts.asyncTimeoutMs ?? 2000;
    this.#timeouts = opts.timeouts ?? {};
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * Registers a hook under its full name (`owner.hook`) and returns it, for declaring hook objects. The
   * hook's class says what `decidedBy` remembers: for a bail hook the plugin that returned the answer, for
   * a waterfall the plugin that returned a new object (not the value it was passed), its producer.
   */
  register<H extends AnyHook>(name: string, hook: H): H {
    if (this.#hooks.has(name)) throw new Error(`hook ${name} registered twice`);
    this.#hooks.set(name, hook);
    const kind = hookKind(hook);
    if (kind === 'bail') this.#bailHooks.add(name);
    if (kind === 'waterfall') this.#waterfallHooks.add(name);
    hook.intercept({ register: (tap: Tap) => this.#wrapTap(name, tap) });
    return hook;
  }

  /**
   * The plugin whose tap returned this object from a bail hook (which plugin chose a boot file), or
   * produced it in a tracked waterfall (which plugin generated a script).
   */
  decidedBy(result: unknown): string | undefined {
    return typeof result === 'object' && result !== null ? this.#decidedBy.get(result) : undefined;
  }

  /** All registered hooks by name (for docs and `explain`). */
  hooks(): ReadonlyMap<string, AnyHook> {
    return this.#hooks;
  }

  /** Refuses further taps; called by `server.start()`. */
  seal(): void {
    this.#sealed = true;
  }

  /** Observe every tap's duration (the metrics plugin). Returns an unsubscribe function. */
  onTiming(fn: (t: TapTiming) => void): () => void {
    this.#timingObservers.add(fn);
    return () => this.#timingObservers.delete(fn);
  }

  /**
   * Runs a plugin's `apply`: taps made meanwhile are attributed to `plugin` (errors, timings and
   * `decidedBy` name it), whatever name the tap itself was given.
   */
  applying<T>(plugin: string, fn: () => T): T {
    const outer = this.#applying;
    this.#applying = plugin;
    try {
      return fn();
    } finally {
      this.#applying = outer;
    }
  }

  timeoutFor(hook: string): number {
    return this.#timeouts[hook] ?? this.#asyncTimeoutMs;
  }

  #wrapTap(hook: string, tap: Tap): Tap {
    const plugin = this.#applying ?? tap.name;
    if (this.#sealed) {
      throw new PxeError('PXE_ERR_HOOK_SEALED', `cannot tap ${hook} as "${plugin}": the server has started`, {
        fix: "tap hooks inside your plugin's apply(), or before calling server.start()",
        details: { plugin, hook },
      });
    }
    const fn = tap.fn;
    const wrapped =
      tap.type === 'promise'
        ? this.#wrapPromise(hook, plugin, fn)
        : tap.type === 'async'
          ? this.#wrapCallback(hook, plugin, fn)
          : this.#wrapSync(hook, plugin, fn);
    return { ...tap, fn: wrapped };
  }

  #noteDecider(hook: string, plugin: string, result: unknown, input: unknown): void {
    if (typeof result !== 'object' || result === null) return;
    if (this.#bailHooks.has(hook) ? !this.#decidedBy.has(result) : this.#waterfallHooks.has(hook) && result !== input) {
      this.#decidedBy.set(result, plugin);
    }
  }

  #report(hook: string, plugin: string, start: number, ok: boolean): void {
    if (this.#timingObservers.size === 0) return;
    const t: TapTiming = { hook, plugin, durationMs: performance.now() - start, ok };
    for (const obs of this.#timingObservers) {
      try {
        obs(t);
      } catch {
        /* an observer must never break the packet path */
      }
    }
  }

  #wrapSync(hook: string, plugin: string, fn: AnyFn): AnyFn {
    return (...args: unknown[]) => {
      const start = performance.now();
      try {
        const r = fn(...args);
        this.#noteDecider(hook, plugin, r, args[0]);
        this.#report(hook, plugin, start, true);
        return r;
      } catch (err) {
        this.#report(hook, plugin, start, false);
        throw tagError(err, plugin, hook);
      }
    };
  }

  #wrapPromise(hook: string, plugin: string, fn: AnyFn): AnyFn {
    // A synchronous answer needs no timer; an async one is bounded by raceTimer (one timer, no race chain):
    // taps run per request and per packet, so this wrapper's cost is paid thousands of times a second.
    return (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const start = performance.now();
        const ok = (r: unknown) => {
          this.#noteDecider(hook, plugin, r, args[0]);
          this.#report(hook, plugin, start, true);
          resolve(r);
        };
        const fail = (err: unknown) => {
          this.#report(hook, plugin, start, false);
          reject(tagError(err, plugin, hook));
        };
        let call: unknown;
        try {
          call = fn(...args);
        } catch (err) {
          fail(err);
          return;
        }
        // A tap that answered synchronously cannot time out: no timer for it.
        if (!isThenable(call)) {
          ok(call);
          return;
        }
        const ms = this.timeoutFor(hook);
        raceTimer(Promise.resolve(call), ms, (): never => {
          throw new HookError('PXE_ERR_HOOK_TIMEOUT', plugin, hook, `did not settle within ${ms} ms`);
        }).then(ok, fail);
      });
  }

  #wrapCallback(hook: string, plugin: string, fn: AnyFn): AnyFn {
    return (...args: unknown[]) => {
      const callback = args.pop() as (err?: unknown, result?: unknown) => void;
      const start = performance.now();
      const ms = this.timeoutFor(hook);
      let done = false;
      const finish = (err?: unknown, result?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#report(hook, plugin, start, err == null);
        if (err != null) callback(tagError(err, plugin, hook));
        else {
          this.#noteDecider(hook, plugin, result, args[0]);
          callback(null, result);
        }
      };
      const timer = setTimeout(
        () => finish(new HookError('PXE_ERR_HOOK_TIMEOUT', plugin, hook, `did not call back within ${ms} ms`)),
        ms,
      );
      try {
        fn(...args, finish);
      } catch (err) {
        finish(err);
      }
    };
  }
}

/**
 * Nothing taps `hook` and no interceptor watches its calls (the runner's own only sees taps register):
 * calling it would just answer undefined, so a per-request path may skip the call and the context it needs.
 */
export function hookIsIdle(hook: AnyHook): boolean {
  return hook.taps.length === 0 && !hookWatchesCalls(hook);
}

/** An interceptor of `hook` watches its calls (call, tap, result, …), not only taps registering. */
export function hookWatchesCalls(hook: AnyHook): boolean {
  const h = hook as AnyHook & { interceptors: object[] };
  for (const i of h.interceptors)
    for (const k in i) if (k !== 'register' && k !== 'name' && k !== 'context') return true;
  return false;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

function tagError(err: unknown, plugin: string, hook: string): HookError {
  if (err instanceof HookError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HookError('PXE_ERR_HOOK_FAILED', plugin, hook, message, err);
}

const BAIL: unknown[] = [SyncBailHook, AsyncSeriesBailHook, AsyncParallelBailHook];
const WATERFALL: unknown[] = [SyncWaterfallHook, AsyncSeriesWaterfallHook];

/**
 * Whether a tapable hook stops at the first answer (bail), threads a value through its taps, or neither
 * (plain). tapable's hook factories set `constructor` on the hooks they make (their prototype is null, so
 * `instanceof` cannot be used).
 */
export function hookKind(hook: AnyHook): 'bail' | 'waterfall' | 'plain' {
  const made = (hook as { constructor?: unknown }).constructor;
  if (BAIL.includes(made)) return 'bail';
  if (WATERFALL.includes(made)) return 'waterfall';
  return 'plain';
}
