import type { Logger } from 'pino';
import { compileSchema } from './config/ajv.js';
import { ajvIssues, ConfigError, type ConfigIssue } from './config/issues.js';
import type { PxeConfig } from './config/types.js';
import { PxeError } from './errors.js';
import type { PluginCheck } from './plugin-check.js';
import type { PluginCommand } from './plugin-command.js';
import type { ProvideName, Provides } from './provides.js';
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
  /**
   * Hands `value` to other plugins (and the core) under `name`, which the plugin lists in `provides`.
   * Call it in `apply`. See {@link Provides}.
   */
  provide<K extends ProvideName>(name: K, value: Provides[K]): void;
  /**
   * What another plugin provided under `name`. Its provider must be in this plugin's `dependencies`
   * (throws PXE_ERR_PLUGIN_DEPENDENCY otherwise). In `apply` only plugins listed earlier have provided;
   * from a `server.hooks.ready` tap on, all have. `{ optional: true }`: undefined when no configured
   * plugin provides it (the provider is then listed in `optionalDependencies`).
   */
  use<K extends ProvideName>(name: K): Provides[K];
  use<K extends ProvideName>(name: K, opts: { optional: true }): Provides[K] | undefined;
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
  /** Plugins this one uses when they are configured (`ctx.use(name, { optional: true })`). */
  optionalDependencies?: string[];
  /** Names this plugin hands to others with `ctx.provide` (see {@link Provides}); one provider per name. */
  provides?: ProvideName[];
  /** CLI subcommands this plugin adds: `pxekit <name> …` (see {@link PluginCommand}). */
  commands?: PluginCommand<O>[];
  /**
   * Readiness check for `pxekit validate` (see {@link PluginCheck}): what `start` would reject or what
   * would not work (a missing folder, a template that does not compile, a remote that does not answer),
   * found without starting anything. Never called by `start`.
   */
  check?: PluginCheck<O>;
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

/** A problem with the plugin list, and the error code `start` throws it with. */
export type PluginListIssue = ConfigIssue & {
  code: 'PXE_ERR_CONFIG_INVALID' | 'PXE_ERR_PLUGIN_DUPLICATE' | 'PXE_ERR_PLUGIN_DEPENDENCY';
};

/**
 * Every plugin's options validated (all problems at once), names unique, dependencies configured: the
 * options as `apply` gets them, and every problem (`pxekit validate` lists them; `applyPlugins` throws).
 */
export function checkPluginList(
  plugins: PluginDefinition[],
  origins: PluginOrigin[] = [],
): { options: unknown[]; valid: boolean[]; issues: PluginListIssue[] } {
  const issues: PluginListIssue[] = [];
  const where = (i: number, name: string) => {
    const o = origins[i];
    return { ...(o?.file ? { file: o.file } : {}), path: `plugins[${o?.index ?? i}] (${name})` };
  };
  const valid: boolean[] = [];
  const options = plugins.map((p, i) => {
    const r = validatedOptions(p, where(i, p.name));
    issues.push(...r.issues.map((x) => ({ ...x, code: 'PXE_ERR_CONFIG_INVALID' as const })));
    valid.push(r.issues.length === 0);
    return r.options;
  });
  const seen = new Map<string, number>();
  plugins.forEach((p, i) => {
    const prev = seen.get(p.name);
    if (prev !== undefined)
      issues.push({
        ...where(i, p.name),
        code: 'PXE_ERR_PLUGIN_DUPLICATE',
        message: `plugin name "${p.name}" is already used by plugins[${origins[prev]?.index ?? prev}]`,
        fix: 'list each plugin once, or give a custom plugin its own name',
      });
    else seen.set(p.name, i);
  });
  plugins.forEach((p, i) => {
    for (const dep of p.dependencies ?? []) {
      if (![...seen.keys()].some((n) => n === dep || n.startsWith(`${dep}#`)))
        issues.push({
          ...where(i, p.name),
          code: 'PXE_ERR_PLUGIN_DEPENDENCY',
          message: `plugin "${p.name}" needs plugin "${dep}", which is not configured`,
          fix: `add "${dep}" to plugins`,
        });
    }
  });
  return { options, valid, issues };
}

/**
 * Validates every plugin's options (all errors at once), checks names and dependencies, then applies the
 * plugins in order. Nothing is applied unless everything validates.
 */
export function applyPlugins(server: PxeServer, plugins: PluginDefinition[], origins: PluginOrigin[] = []): void {
  const { options: validated, issues } = checkPluginList(plugins, origins);
  // Thrown by kind, as before: option errors first, then duplicates, then dependencies.
  for (const code of ['PXE_ERR_CONFIG_INVALID', 'PXE_ERR_PLUGIN_DUPLICATE', 'PXE_ERR_PLUGIN_DEPENDENCY'] as const) {
    const some = issues.filter((i) => i.code === code);
    if (some.length)
      throw new ConfigError(
        some.map(({ code: _code, ...i }) => i),
        code,
      );
  }

  server.provided.declare(plugins);
  plugins.forEach((p, i) => {
    const ctx: PluginContext<unknown> = {
      options: validated[i],
      log: server.log.child({ plugin: p.name }),
      config: server.config,
      baseDir: server.baseDir,
      name: p.name,
      provide: (name, value) => server.provided.provide(p, name, value),
      use: ((name: ProvideName, opts?: { optional: true }) =>
        server.provided.use(p, name, opts?.optional === true)) as PluginContext<unknown>['use'],
    };
    try {
      server.runner.applying(p.name, () => p.apply(server, ctx));
    } catch (err) {
      if (err instanceof PxeError) throw err;
      throw new PxeError(
        'PXE_ERR_PLUGIN_APPLY',
        `plugin "${p.name}" failed to apply: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err, fix: "see the plugin's README; apply() must only tap hooks", details: { plugin: p.name } },
      );
    } finally {
      server.provided.applied(p.name);
    }
  });
}

/**
 * A plugin's options as `apply` gets them: a copy, validated against `optionsSchema` with defaults
 * filled in; `issues` lists what does not match (located at `where`).
 */
export function validatedOptions(
  p: PluginDefinition,
  where: { file?: string; path: string },
): { options: unknown; issues: ConfigIssue[] } {
  const options: unknown = p.options === undefined ? {} : structuredCloneSafe(p.options);
  if (!p.optionsSchema) return { options, issues: [] };
  const validate = compileSchema(p.optionsSchema);
  if (validate(options)) return { options, issues: [] };
  const issues = ajvIssues(validate.errors, options, {
    ...(where.file ? { file: where.file } : {}),
    pathPrefix: `${where.path} options `,
  });
  return { options, issues };
}

/** Options may hold functions or class instances (embedding programs): clone plain data, keep the rest. */
function structuredCloneSafe(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}
