/**
 * CLI subcommands contributed by plugins: part of the plugin contract (`commands` in `definePlugin`).
 * `pxekit intent …` comes from boot-intents and `pxekit audit verify` from audit-log this way; a
 * third-party plugin adds its own the same way. The CLI finds them in core/plugin-commands.ts.
 */
import type { PxeConfig } from './config/types.js';

/** Where a command writes: one line per call (stdout, stderr). */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/** The command's plugin as a config file lists it. */
export interface ConfiguredPlugin<O> {
  /** Its instance name (`source-disk#ipxe` for a second instance). */
  name: string;
  /** Its options from the config, validated against its schema with defaults filled in. */
  options: O;
  /** The config file's folder: relative paths in options resolve against it. */
  baseDir: string;
  /** The config file, as shown in messages. */
  configFile: string;
  config: PxeConfig;
}

/** What a command's `run` gets besides its arguments. */
export interface CommandContext<O> extends CommandIo {
  /** The plugin the command comes from. */
  plugin: string;
  /**
   * This plugin as the config at `configPath` lists it (default: the `--config` the command was given, else
   * the usual search in the current folder). Rejects with the config's error when it cannot be loaded
   * (PXE_ERR_CONFIG_NOT_FOUND, a ConfigError…) and with PXE_ERR_CONFIG_INVALID when it does not list the
   * plugin, naming the file and the fix.
   */
  configured(configPath?: string): Promise<ConfiguredPlugin<O>>;
}

/**
 * A subcommand, `pxekit <name> [args…]`. `run` parses its own arguments (node:util `parseArgs` is
 * enough), writes through `ctx.out`/`ctx.err` and resolves with the exit code: 0 done, 1 failed, 2 usage.
 * A rejection is printed with its fix and exits 1.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a command of a plugin with any options type
export interface PluginCommand<O = any> {
  /** Lowercase word (`intent`); the core's own commands (start, validate, explain…) take precedence. */
  name: string;
  /** One line for `pxekit --help`. */
  summary: string;
  /**
   * What `pxekit <name> --help` prints (the core answers `--help`/`-h` anywhere in the arguments before
   * `--`, exit 0, without calling `run`): the command's usage lines. Default: the summary.
   */
  usage?: string;
  run(argv: string[], ctx: CommandContext<O>): Promise<number>;
}
