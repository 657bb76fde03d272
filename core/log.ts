import { pino, type Logger, type LevelWithSilent } from 'pino';
import pinoPretty from 'pino-pretty';
import { prettyMessage } from './log-pretty.js';

export type { Logger };

export interface LogOptions {
  level?: LevelWithSilent;
  /** Human-readable lines; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Write here instead of stdout (tests pass a stream to read events). */
  destination?: NodeJS.WritableStream;
}

/**
 * The root logger: JSON lines (one event per line) unless stdout is a terminal. The level comes from
 * the config, then `PXEKIT_LOG_LEVEL`, then `info`. Plugins and transactions get child loggers.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env['PXEKIT_LOG_LEVEL'] as LevelWithSilent | undefined) ?? 'info';
  const pretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const base = { name: 'pxekit' };
  if (pretty) {
    // One line per event (core/log-pretty.ts): start-up is a handful of lines, not a screenful.
    const stream = pinoPretty({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,name',
      hideObject: true,
      messageFormat: prettyMessage,
      sync: true,
      destination: (opts.destination as NodeJS.WritableStream | undefined) ?? 1,
    });
    return pino({ level, base }, stream);
  }
  if (opts.destination)
    return pino({ level, base }, opts.destination as NodeJS.WritableStream & { write(s: string): boolean });
  return pino({ level, base }, pino.destination({ dest: 1, sync: false }));
}

/** Flushes an async destination (SIGTERM path): best effort, never throws. */
export function flushLogger(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      log.flush((err) => {
        void err;
        resolve();
      });
    } catch {
      resolve();
    }
  });
}
