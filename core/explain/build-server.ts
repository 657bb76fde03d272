import { dirname } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { resolvePlugins } from '../config/resolve-plugins.js';
import { createLogger } from '../log.js';
import type { BootEvent } from '../hooks/server.js';
import type { PluginDefinition, PluginOrigin } from '../plugin.js';
import { PxeServer } from '../server.js';

/**
 * Observers are left out of an explain run: they would open audit files, bind their own ports and
 * count traffic that never happened. (Their boot events are captured by explain instead.)
 */
export const OBSERVER_PLUGINS = new Set(['audit-log', 'metrics', 'status']);

export interface ExplainServer {
  server: PxeServer;
  configFile: string;
  mode: 'proxy' | 'full';
  plugins: string[];
  skipped: string[];
  /** Boot events the run produced, in order (they are not published to plugins). */
  events: BootEvent[];
}

/**
 * Builds the server of a config without binding anything: the config is loaded and validated, plugins
 * are resolved and applied, then `ready` runs (sources such as git need their set-up); `start()` is
 * never called, so no socket is opened. boot events are redirected (`server.redirectBootEvents`) to capture boot
 * events: no plugin reacts to explain's synthetic traffic (a one-shot boot intent is not used up).
 * Close with `closeExplainServer`.
 */
export async function buildExplainServer(opts: {
  configPath?: string;
  mode?: 'proxy' | 'full';
  logLevel?: LevelWithSilent;
}): Promise<ExplainServer> {
  const loaded = await loadConfig(opts.configPath);
  const resolved = await resolvePlugins(loaded.config.plugins as never, {
    baseDir: dirname(loaded.filepath),
    file: loaded.displayPath,
  });
  const x = explainServerOf(loaded, resolved, opts);
  await x.server.hooks.ready.promise();
  return x;
}

/**
 * The explain server of a loaded config and its resolved plugins, applied but not ready: the caller runs
 * `server.hooks.ready` (`pxekit validate` does, reporting a failure as what `start` would reject).
 */
export function explainServerOf(
  loaded: LoadedConfig,
  resolved: { plugins: PluginDefinition[]; origins: PluginOrigin[] },
  opts: { mode?: 'proxy' | 'full'; logLevel?: LevelWithSilent } = {},
): ExplainServer {
  const { plugins, origins } = resolved;
  const baseDir = dirname(loaded.filepath);
  const keep: number[] = [];
  const skipped: string[] = [];
  plugins.forEach((p, i) => {
    if (OBSERVER_PLUGINS.has(p.name.split('#')[0]!)) skipped.push(p.name);
    else keep.push(i);
  });
  const configMode = loaded.config.dhcp.mode;
  const mode = opts.mode ?? (configMode === 'off' ? 'proxy' : configMode);
  const config = { ...loaded.config, dhcp: { ...loaded.config.dhcp, mode }, plugins: keep.map((i) => plugins[i]!) };
  const logger = createLogger({ level: opts.logLevel ?? 'silent', pretty: false, destination: process.stderr });
  const server = new PxeServer(config, {
    logger,
    configFile: loaded.displayPath,
    pluginOrigins: keep.map((i) => origins[i]!),
    baseDir,
  });
  const events: BootEvent[] = [];
  // time 0: explain's output must not change from run to run.
  server.redirectBootEvents((event) => {
    events.push({ ...event, time: 0 });
  });
  return { server, configFile: loaded.displayPath, mode, plugins: config.plugins.map((p) => p.name), skipped, events };
}

/** Runs the `close` taps (sources release clients, watchers stop). */
export async function closeExplainServer(x: ExplainServer): Promise<void> {
  await x.server.hooks.close.promise().catch(() => undefined);
}
