import type { Logger } from 'pino';
import { compileSchema } from './config/ajv.js';
import { ajvIssues, ConfigError, type ConfigIssue } from './config/issues.js';
import type { PxeConfig } from './config/types.js';
import { PxeError } from './errors.js';
import type { PxeServer } from './server.js';

const PLUGIN = Symbol.for('pxekit.plugin');

/** What a plugin's `apply` gets besides the server. */
export interface PluginContext<O> {
  /** Options, validated against `optionsSchema` with defaults applied. */
  options: O;
  /** A child logger bound to `{ plugin: name }`. */
  log: Logger;
  config: PxeConfig;
  /** Folder that relative paths in options are resolved against: the config file's folder, else the cwd. */
  baseDir: string;
  /**
   * The name the server knows this instance by: the plugin's own name, or `source-disk#ipxe` when a
   * config lists a second instance. Use it for log fields, event `plugin`/`source` and file handles.
   */
  name: string;
}

export interface PluginSpec<O> {
  /** Kebab-case, unique in a server; also the log binding and how errors name the plugin. */
  name: string;
  /** JSON Schema of `options` (every property with a description: it becomes the docs). */
  optionsSchema?: object;
  /** Raw options; validated and defaulted before any plugin applies. */
  options?: unknown;
  /** Names of plugins that must also be configured (e.g. a source a script plugin reads from). */
  dependencies?: string[];
  /** Synchronous: tap hooks only. Do async set-up in `server.hooks.ready`. */
  apply(server: PxeServer, ctx: PluginContext<O>): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a definition of any options type
export interface PluginDefinition<O = any> extends PluginSpec<O> {
  readonly [PLUGIN]: true;
}

/** Declares a plugin. Typed options come from the generic: `definePlugin<MyOptions>({ ... })`. */
export function definePlugin<O = Record<string, unknown>>(spec: PluginSpec<O>): PluginDefinition<O> {
  return Object.assign(Object.create(null) as object, spec, { [PLUGIN]: true as const }) as PluginDefinition<O>;
}

export function isPlugin(value: unknown): value is PluginDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN] === true;
}

/** Where each plugin came from, so errors can name the config file and entry. */
export interface PluginOrigin {
  file?: string;
  /** `plugins[2]` in the config. */
  index: number;
}

/**
 * Validates every plugin's options (all errors at once), checks names and dependencies, then applies the
 * plugins in order. Nothing is applied unless everything validates.
 */
export function applyPlugins(server: PxeServer, plugins: PluginDefinition[], origins: PluginOrigin[] = []): void {
  const issues: ConfigIssue[] = [];
  const where = (i: number, name: string) => {
    const o = origins[i];
    return { ...(o?.file ? { file: o.file } : {}), path: `plugins[${o?.index ?? i}] (${name})` };
  };
  const validated: unknown[] = [];
  plugins.forEach((p, i) => {
    const options: unknown = p.options === undefined ? {} : structuredCloneSafe(p.options);
    if (p.optionsSchema) {
      const validate = compileSchema(p.optionsSchema);
      if (!validate(options)) {
        const w = where(i, p.name);
        issues.push(
          ...ajvIssues(validate.errors, options, {
            ...(w.file ? { file: w.file } : {}),
            pathPrefix: `${w.path} options `,
          }),
        );
      }
    }
    validated.push(options);
  });
  if (issues.length) throw new ConfigError(issues);

  const seen = new Map<string, number>();
  plugins.forEach((p, i) => {
    const prev = seen.get(p.name);
    if (prev !== undefined) {
      throw new ConfigError(
        [
          {
            ...where(i, p.name),
            message: `plugin name "${p.name}" is already used by plugins[${origins[prev]?.index ?? prev}]`,
            fix: 'list each plugin once, or give a custom plugin its own name',
          },
        ],
        'PXE_ERR_PLUGIN_DUPLICATE',
      );
    }
    seen.set(p.name, i);
  });
  const depIssues: ConfigIssue[] = [];
  plugins.forEach((p, i) => {
    for (const dep of p.dependencies ?? []) {
      if (![...seen.keys()].some((n) => n === dep || n.startsWith(`${dep}#`)))
        depIssues.push({
          ...where(i, p.name),
          message: `plugin "${p.name}" needs plugin "${dep}", which is not configured`,
          fix: `add "${dep}" to plugins`,
        });
    }
  });
  if (depIssues.length) throw new ConfigError(depIssues, 'PXE_ERR_PLUGIN_DEPENDENCY');

  plugins.forEach((p, i) => {
    server.runner.currentPlugin = p.name;
    try {
      p.apply(server, {
        options: validated[i],
        log: server.log.child({ plugin: p.name }),
        config: server.config,
        baseDir: server.baseDir,
        name: p.name,
      });
    } catch (err) {
      if (err instanceof PxeError) throw err;
      throw new PxeError(
        'PXE_ERR_PLUGIN_APPLY',
        `plugin "${p.name}" failed to apply: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err, fix: "see the plugin's README; apply() must only tap hooks", details: { plugin: p.name } },
      );
    } finally {
      server.runner.currentPlugin = undefined;
    }
  });
}

/** Options may hold functions or class instances (embedding programs): clone plain data, keep the rest. */
function structuredCloneSafe(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}
