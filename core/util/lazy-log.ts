/**
 * A per-request `log` made when something first reads it: most requests never log through their child
 * logger, and pino's `child()` per request showed in the boot storm's profile. A tap may still replace it.
 */
import type { Bindings, Logger } from 'pino';

/** Defines `target.log` as `parent.child(bindings)`, made on first read; assigning replaces it. */
export function withLazyChildLog<T extends object>(target: T, parent: Logger, bindings: Bindings): T & { log: Logger } {
  let child: Logger | undefined;
  return Object.defineProperty(target, 'log', {
    enumerable: true,
    configurable: true,
    get: () => (child ??= parent.child(bindings)),
    set: (l: Logger) => {
      child = l;
    },
  }) as T & { log: Logger };
}
