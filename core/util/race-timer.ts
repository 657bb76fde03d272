/**
 * `work`, unless `ms` pass first: then what `onTimeout` returns (or throws). The timer is cleared either
 * way, so a settled race never keeps the process alive; a late settle of the other side is ignored. Used for
 * promise-tap timeouts (core/hooks/runner.ts), TFTP request callbacks, shutdown grace periods and connect
 * bounds.
 *
 * One promise and one timer per call, settled directly by whichever comes first: `Promise.race` plus a
 * timeout promise plus `.finally` allocated four promises and took three more microtask hops per call,
 * which a cold server pays per request in a boot storm.
 */
export function raceTimer<T, F>(work: Promise<T>, ms: number, onTimeout: () => F): Promise<T | F> {
  return new Promise<T | F>((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err as Error);
      }
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err as Error);
      },
    );
  });
}
