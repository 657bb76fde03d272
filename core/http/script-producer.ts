import type { AsyncSeriesWaterfallHook } from 'tapable';
import type { HttpContext, HttpScript } from '../hooks/http.js';
import type { HookRunner } from '../hooks/runner.js';

type ScriptHook = AsyncSeriesWaterfallHook<[HttpScript | undefined, HttpContext]>;
type AnyFn = (...args: any[]) => any;

/**
 * The runner knows who decided a bail hook, but `script` is a waterfall: the producer is the last tap
 * that returned a new script object. This interceptor (added after the runner's, so it wraps the
 * runner-wrapped tap) remembers, per returned object, the plugin whose apply() tapped it.
 * Returns a lookup for the final script.
 */
export function trackScriptProducers(hook: ScriptHook, runner: HookRunner): (script: HttpScript) => string | undefined {
  const producers = new WeakMap<object, string>();
  const note = (plugin: string, input: unknown, output: unknown): void => {
    if (typeof output === 'object' && output !== null && output !== input) producers.set(output, plugin);
  };
  hook.intercept({
    register: (tap) => {
      const plugin = runner.currentPlugin ?? tap.name;
      const fn = tap.fn as AnyFn;
      if (tap.type === 'promise') {
        return { ...tap, fn: (script: unknown, ctx: unknown) => Promise.resolve(fn(script, ctx)).then((out: unknown) => { note(plugin, script, out); return out; }) };
      }
      if (tap.type === 'async') {
        return { ...tap, fn: (script: unknown, ctx: unknown, cb: (err?: unknown, out?: unknown) => void) => fn(script, ctx, (err?: unknown, out?: unknown) => { if (err == null) note(plugin, script, out); cb(err, out); }) };
      }
      return { ...tap, fn: (script: unknown, ctx: unknown) => { const out: unknown = fn(script, ctx); note(plugin, script, out); return out; } };
    },
  });
  return (script) => script.producedBy ?? producers.get(script);
}
