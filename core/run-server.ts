/**
 * The life of `pxekit start`: start the server; on SIGHUP read the config again and hand over to a
 * server built from it (a reload: new requests use it, work in flight finishes on the old one, and a
 * config that fails to load or changes what a reload keeps leaves the running one in place); on
 * SIGINT/SIGTERM close gracefully (a second signal exits at once).
 */
import { ConfigError, type ConfigIssue } from './config/issues.js';
import { PxeError } from './errors.js';
import { flushLogger } from './log.js';
import type { PxeServer } from './server.js';

/** Builds the server that replaces `running`, from the config file as it is now (not started). */
export type ReplacementBuilder = (running: PxeServer) => Promise<PxeServer>;

/** Resolves with the exit code once the server has closed. */
export async function runUntilSignal(first: PxeServer, buildReplacement: ReplacementBuilder): Promise<number> {
  let server = first;
  let closing = false;
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;

  const reload = async (): Promise<void> => {
    do {
      reloadAgain = false;
      const running = server;
      running.log.info({ event: 'config.reload', file: running.configFile }, 'SIGHUP: reading the config again');
      try {
        const next = await buildReplacement(running);
        await next.start();
        server = next;
      } catch (err) {
        const problems = problemsOf(err);
        running.log.error(
          {
            event: 'config.reload.failed',
            file: running.configFile,
            code: err instanceof PxeError ? err.code : undefined,
            problems,
            ...(err instanceof PxeError ? {} : { err }),
          },
          `config not reloaded (${problems.length} problem${problems.length === 1 ? '' : 's'}): still running the previous one`,
        );
      }
    } while (reloadAgain && !closing);
  };

  const onHangup = () => {
    if (closing) return;
    if (reloading) {
      reloadAgain = true; // the file may have changed again since the running reload read it
      return;
    }
    reloading = reload().finally(() => (reloading = undefined));
  };
  process.on('SIGHUP', onHangup);
  try {
    await server.start();
  } catch (err) {
    process.off('SIGHUP', onHangup);
    throw err;
  }

  return new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (closing) {
        server.log.warn({ event: 'server.signal', signal: sig }, 'second signal: exiting now');
        void flushLogger(server.log).finally(() => process.exit(1));
        return;
      }
      closing = true;
      server.log.info({ event: 'server.signal', signal: sig }, 'closing: letting transfers finish');
      void (async () => {
        await reloading; // close the server that won, not one being replaced
        process.off('SIGHUP', onHangup);
        await server.close();
      })().then(
        () => resolve(0),
        (err: unknown) => {
          server.log.error({ event: 'server.close.error', err }, 'close failed');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Every problem of a failed reload, as log fields: one per config issue, else the error's message and fix. */
function problemsOf(err: unknown): Array<Partial<ConfigIssue> & { message: string }> {
  if (err instanceof ConfigError) return err.issues;
  if (err instanceof PxeError) return [{ message: err.message, ...(err.fix ? { fix: err.fix } : {}) }];
  return [{ message: err instanceof Error ? err.message : String(err) }];
}
