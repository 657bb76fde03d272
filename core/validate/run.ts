/**
 * `pxekit validate`: everything `start` would reject, and what would not work once started, found in one
 * pass without binding a socket. Stages: the file (found, parsed, not empty), the core schema, plugin
 * resolution, every plugin's options, names and dependencies, each plugin's readiness `check` (the plugin
 * contract, core/plugin-check.ts), then — when nothing so far is an error — the server is built and set up
 * as `start` would (`ready`, no listeners) and the boot file each architecture would get is looked up in
 * the sources (boot-files.ts).
 */
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config/issues.js';
import { readConfigFile, type RawConfig } from '../config/load.js';
import { resolvePluginsCollect } from '../config/resolve-plugins.js';
import type { PluginRef, PxeConfig } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import { hookTags, PxeError } from '../errors.js';
import { closeExplainServer, explainServerOf } from '../explain/build-server.js';
import { createLogger } from '../log.js';
import type { CheckProblem } from '../plugin-check.js';
import { checkPluginList, type PluginDefinition, type PluginOrigin } from '../plugin.js';
import { raceTimer } from '../util/race-timer.js';
import { checkBootFiles } from './boot-files.js';
import type { ValidateIssue } from './types.js';

export type { ValidateIssue } from './types.js';

export interface ValidateReport {
  /** The config file as shown in messages (undefined when none was found). */
  file?: string;
  plugins: string[];
  mode?: string;
  issues: ValidateIssue[];
  /** Stages not run, and why (`boot files: fix the errors above first`). */
  skipped: string[];
}

export interface ValidateOptions {
  configPath?: string;
  cwd?: string;
  /** Bound for each readiness check's network probes, ms (default 5000). */
  timeoutMs?: number;
  logger?: Logger;
}

const errorsIn = (issues: ValidateIssue[]) => issues.some((i) => i.severity === 'error');

/** Runs every stage it can and returns every problem; never throws for a problem of the config. */
export async function validateProject(opts: ValidateOptions = {}): Promise<ValidateReport> {
  const log = opts.logger ?? createLogger({ level: 'silent' });
  const timeoutMs = opts.timeoutMs ?? 5000;
  let file: RawConfig;
  try {
    file = await readConfigFile(opts.configPath, opts.cwd);
  } catch (err) {
    if (!(err instanceof PxeError)) throw err;
    return {
      plugins: [],
      issues: [{ severity: 'error', stage: 'file', message: err.message, fix: err.fix ?? 'see docs/config.md' }],
      skipped: ['everything else: the config file could not be read'],
    };
  }
  const at = { file: file.displayPath };
  const issues: ValidateIssue[] = [];
  const skipped: string[] = [];
  let config: PxeConfig | undefined;
  try {
    config = validateConfig(file.raw, file.displayPath);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues.map((i) => ({ ...i, severity: 'error' as const, stage: 'schema' as const })));
  }
  const rawPlugins = (file.raw as { plugins?: unknown } | null)?.plugins;
  const refs = Array.isArray(rawPlugins) ? (rawPlugins as PluginRef[]) : [];
  const baseDir = dirname(file.filepath);
  const resolved = await resolvePluginsCollect(refs, { baseDir, ...at });
  issues.push(...resolved.issues.map((i) => ({ ...i, severity: 'error' as const, stage: 'plugins' as const })));
  const list = checkPluginList(resolved.plugins, resolved.origins);
  issues.push(
    ...list.issues.map(({ code: _c, ...i }) => ({ ...i, severity: 'error' as const, stage: 'options' as const })),
  );
  const report = (): ValidateReport => ({
    ...at,
    plugins: resolved.plugins.map((p) => p.name),
    ...(config ? { mode: config.dhcp.mode } : {}),
    issues,
    skipped,
  });

  if (!config) {
    skipped.push('readiness checks and boot files: fix the core config errors first');
    return report();
  }
  const checked = await Promise.all(
    resolved.plugins.map((p, i) =>
      list.valid[i] && p.check
        ? runCheck(p, resolved.origins[i], { options: list.options[i], config: config, baseDir, log, timeoutMs })
        : [],
    ),
  );
  issues.push(...checked.flat());
  if (resolved.plugins.some((p, i) => p.check && !list.valid[i]))
    skipped.push('readiness checks of plugins whose options are wrong: fix their options first');

  if (errorsIn(issues)) {
    skipped.push('start-up and boot files: fix the errors above first');
    return report();
  }
  const x = explainServerOf(
    { config, filepath: file.filepath, displayPath: file.displayPath },
    { plugins: resolved.plugins, origins: resolved.origins },
    { logLevel: log.level as never },
  );
  try {
    try {
      await x.server.hooks.ready.promise();
    } catch (err) {
      const plugin = hookTags(err).plugin;
      if (plugin && issues.some((i) => i.path?.includes(`(${plugin})`))) {
        // Already reported by its check (a repository that does not answer): not a second, louder problem.
        skipped.push(`boot files: ${plugin} could not be set up (see its problem above)`);
      } else {
        issues.push(startFailure(err, plugin, resolved.plugins, resolved.origins, file.displayPath));
      }
      return report();
    }
    issues.push(...(await checkBootFiles(x, resolved.plugins, resolved.origins)));
  } finally {
    await closeExplainServer(x);
  }
  return report();
}

async function runCheck(
  p: PluginDefinition,
  origin: PluginOrigin | undefined,
  c: { options: unknown; config: PxeConfig; baseDir: string; log: Logger; timeoutMs: number },
): Promise<ValidateIssue[]> {
  const where = `plugins[${origin?.index ?? '?'}] (${p.name})`;
  const file = origin?.file ? { file: origin.file } : {};
  const abort = new AbortController();
  // A check gets its probe time twice over, then is cut off (a check that hangs must not hang validate).
  const limit = c.timeoutMs * 2 + 1000;
  let problems: CheckProblem[] | void;
  try {
    problems = await raceTimer(
      Promise.resolve(
        p.check!({
          options: c.options,
          config: c.config,
          baseDir: c.baseDir,
          name: p.name,
          log: c.log.child({ plugin: p.name }),
          timeoutMs: c.timeoutMs,
          signal: abort.signal,
        }),
      ),
      limit,
      (): CheckProblem[] => {
        abort.abort();
        return [
          {
            severity: 'warning',
            message: `its readiness check did not finish within ${limit} ms`,
            fix: 'check the network from this machine to what the plugin reaches (or raise validate --timeout)',
          },
        ];
      },
    );
  } catch (err) {
    problems = [
      {
        severity: 'error',
        message: `its readiness check failed: ${err instanceof Error ? err.message : String(err)}`,
        fix: err instanceof PxeError && err.fix ? err.fix : "see the plugin's README, or report it to its author",
      },
    ];
  }
  return (problems ?? []).map((pr) => ({
    ...file,
    severity: pr.severity,
    stage: 'check' as const,
    path: pr.key ? `${where} options ${pr.key}` : where,
    message: pr.message,
    ...(pr.found !== undefined ? { found: pr.found } : {}),
    ...(pr.expected !== undefined ? { expected: pr.expected } : {}),
    fix: pr.fix,
  }));
}

/** `ready` failed where no check had said anything: exactly what `start` would print, as an error. */
function startFailure(
  err: unknown,
  plugin: string | undefined,
  plugins: PluginDefinition[],
  origins: PluginOrigin[],
  file: string,
): ValidateIssue {
  const i = plugin ? plugins.findIndex((p) => p.name === plugin) : -1;
  const cause = err instanceof Error && err.cause instanceof PxeError ? err.cause : err;
  return {
    file,
    severity: 'error',
    stage: 'start',
    ...(i >= 0 ? { path: `plugins[${origins[i]?.index ?? i}] (${plugin})` } : {}),
    message: `start would fail: ${cause instanceof Error ? cause.message : String(cause)}`,
    fix:
      cause instanceof PxeError && cause.fix
        ? cause.fix
        : err instanceof PxeError && err.fix
          ? err.fix
          : 'see the message',
  };
}
