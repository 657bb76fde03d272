import type { Logger } from 'pino';
import { loadConfig } from './config/load.js';
import { resolvePlugins } from './config/resolve-plugins.js';
import { dirname } from 'node:path';
import { PxeServer } from './server.js';
import { createLogger } from './log.js';
import type { LevelWithSilent } from 'pino';

export interface FromConfigOptions {
  /** Config file; default: searched in `cwd`. */
  configPath?: string;
  cwd?: string;
  logger?: Logger;
  /** Overrides `log.level` (CLI --log-level). */
  logLevel?: LevelWithSilent;
  /** The running server this one is to replace on `start()` (a config reload; see ServerOptions.replaces). */
  replaces?: PxeServer;
}

/** Loads a config file, resolves its plugin refs and builds the server (not started). */
export async function createServerFromConfig(opts: FromConfigOptions = {}): Promise<PxeServer> {
  const loaded = await loadConfig(opts.configPath, opts.cwd);
  const { plugins, origins } = await resolvePlugins(loaded.config.plugins as never, {
    baseDir: dirname(loaded.filepath),
    file: loaded.displayPath,
  });
  const config = { ...loaded.config, plugins };
  if (opts.logLevel) config.log = { ...config.log, level: opts.logLevel };
  const logger =
    opts.logger ??
    opts.replaces?.log ??
    createLogger({
      level: config.log.level,
      ...(config.log.pretty !== undefined ? { pretty: config.log.pretty } : {}),
    });
  return new PxeServer(config, {
    logger,
    configFile: loaded.displayPath,
    pluginOrigins: origins,
    baseDir: dirname(loaded.filepath),
    ...(opts.replaces ? { replaces: opts.replaces } : {}),
  });
}
