/**
 * Finds and runs the CLI subcommands plugins contribute (core/plugin-command.ts). The candidates are the
 * plugins the config lists (`--config PATH` among the arguments, else the usual search in the current
 * folder), then every built-in plugin the config does not list, with default options — so a built-in's
 * command (`pxekit audit verify`) works without a config.
 */
import { dirname } from 'node:path';
import { ConfigError, formatIssue } from './config/issues.js';
import { loadConfig } from './config/load.js';
import { builtinPluginNames, resolvePlugins } from './config/resolve-plugins.js';
import { PxeError } from './errors.js';
import type { CommandIo, ConfiguredPlugin, PluginCommand } from './plugin-command.js';
import { validatedOptions, type PluginDefinition } from './plugin.js';

const baseName = (name: string) => (name.includes('#') ? name.slice(0, name.indexOf('#')) : name);

/** A command and the plugin it comes from. */
export interface FoundCommand {
  command: PluginCommand;
  plugin: PluginDefinition;
}

/** Every plugin command, by name; `configProblem` says why the config's own plugins are missing. */
export async function pluginCommands(
  configPath?: string,
): Promise<{ commands: Map<string, FoundCommand[]>; configProblem?: string }> {
  const plugins: PluginDefinition[] = [];
  let configProblem: string | undefined;
  try {
    const loaded = await loadConfig(configPath);
    const { plugins: listed } = await resolvePlugins(loaded.config.plugins, {
      baseDir: dirname(loaded.filepath),
      file: loaded.displayPath,
    });
    plugins.push(...listed);
  } catch (err) {
    // No config here is normal (`pxekit audit verify` needs none); a broken one is worth saying.
    if (configPath || !(err instanceof PxeError && err.code === 'PXE_ERR_CONFIG_NOT_FOUND'))
      configProblem = err instanceof Error ? err.message : String(err);
  }
  const listed = new Set(plugins.map((p) => baseName(p.name)));
  const builtins = await resolvePlugins(
    builtinPluginNames().filter((n) => !listed.has(n)),
    { baseDir: process.cwd() },
  );
  plugins.push(...builtins.plugins);
  const commands = new Map<string, FoundCommand[]>();
  for (const plugin of plugins) {
    for (const command of plugin.commands ?? []) {
      commands.set(command.name, [...(commands.get(command.name) ?? []), { command, plugin }]);
    }
  }
  return { commands, ...(configProblem ? { configProblem } : {}) };
}

/** `--help` or `-h` among the arguments (before a `--` that ends the options). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** `--config PATH`, `--config=PATH` or `-c PATH` among a command's arguments. */
export function configArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

/**
 * Runs `pxekit <name> …` when a plugin contributes `name`: resolves with its exit code, or undefined
 * when no plugin has such a command. Two plugins with the same command name is an error naming both.
 */
export async function runPluginCommand(argv: readonly string[], io: CommandIo): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined) return undefined;
  const configPath = configArg(rest);
  const { commands } = await pluginCommands(configPath);
  const found = commands.get(name);
  if (!found) return undefined;
  if (found.length > 1) {
    io.err(
      `pxekit ${name}: plugins ${found.map((f) => `"${f.plugin.name}"`).join(' and ')} both add this command; remove one from the config`,
    );
    return 1;
  }
  const { command, plugin } = found[0]!;
  if (wantsHelp(rest)) {
    io.out(command.usage ?? `Usage: pxekit ${name} …\n  ${command.summary} (from the ${plugin.name} plugin)`);
    return 0;
  }
  try {
    return await command.run(rest, {
      out: (line) => io.out(line),
      err: (line) => io.err(line),
      plugin: plugin.name,
      configured: (path) => configuredPlugin(plugin.name, path ?? configPath),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`pxekit ${name}: ${err.issues.length} config problem${err.issues.length === 1 ? '' : 's'} [${err.code}]:`);
      for (const i of err.issues) io.err(`  - ${formatIssue(i)}`);
    } else if (err instanceof PxeError) {
      io.err(`pxekit ${name}: ${err.message} [${err.code}]${err.fix ? `\n  fix: ${err.fix}` : ''}`);
    } else {
      io.err(`pxekit ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    return 1;
  }
}

/** The plugin named `pluginName` as the config lists it, options validated. */
async function configuredPlugin<O>(pluginName: string, configPath?: string): Promise<ConfiguredPlugin<O>> {
  const loaded = await loadConfig(configPath);
  const baseDir = dirname(loaded.filepath);
  const { plugins, origins } = await resolvePlugins(loaded.config.plugins, { baseDir, file: loaded.displayPath });
  const i = plugins.findIndex((p) => baseName(p.name) === baseName(pluginName));
  const plugin = plugins[i];
  if (!plugin) {
    throw new PxeError('PXE_ERR_CONFIG_INVALID', `${loaded.displayPath} does not list the ${pluginName} plugin`, {
      fix: `add "${baseName(pluginName)}" (with its options) to plugins in ${loaded.displayPath}, or pass --config PATH`,
    });
  }
  const { options, issues } = validatedOptions(plugin, {
    file: loaded.displayPath,
    path: `plugins[${origins[i]?.index ?? i}] (${plugin.name})`,
  });
  if (issues.length) throw new ConfigError(issues);
  return { name: plugin.name, options: options as O, baseDir, configFile: loaded.displayPath, config: loaded.config };
}
