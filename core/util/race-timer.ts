/**
 * `work`, unless `ms` pass first: then what `onTimeout` returns (or throws). The timer is cleared either
 * way, so a settled race never keeps the process alive. Used for hook timeouts, shutdown grace periods
 * and connect bounds.
 */
export function raceTimer<T, F>(work: Promise<T>, ms: number, onTimeout: () => F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err as Error);
      }
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
