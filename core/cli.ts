import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { ConfigError, formatIssue } from './config/issues.js';
import { PxeError } from './errors.js';
import { createServerFromConfig } from './from-config.js';
import { configArg, pluginCommands, runPluginCommand } from './plugin-commands.js';
import { runUntilSignal } from './run-server.js';

const HELP = `pxekit — a network-boot (PXE) server

Usage:
  pxekit start    [--config PATH] [--log-level LEVEL]   run the server until SIGINT/SIGTERM; SIGHUP reloads
  pxekit validate [--config PATH] [--strict]           check a config as start would, without sockets; exit 1 on errors
  pxekit <command> --help                              usage of one command
  pxekit --help | --version

Without --config, pxekit looks in the current folder for pxekit.config.{json,yaml,yml,js,mjs,cjs,ts},
.pxekitrc[.json|.yaml|.yml], or a "pxekit" key in package.json.
Log level: --log-level, else PXEKIT_LOG_LEVEL, else the config's log.level (default info).
Docs: docs/getting-started.md, docs/cli.md, docs/config.md, docs/plugins.md, docs/errors.md`;

export const START_USAGE = `Usage: pxekit start [--config PATH] [--log-level LEVEL]
  Loads the config, applies its plugins and serves DHCP/ProxyDHCP, TFTP and HTTP until SIGINT or SIGTERM
  (a second signal exits at once). SIGHUP (systemctl reload) reads the config again and applies it without
  dropping a boot; an invalid one leaves the running one in place (docs/deployment.md#reloading-the-config).
  Check a config first with: pxekit validate --config PATH
  --config, -c PATH     the config file (default: searched in the current folder)
  --log-level, -l L     trace, debug, info, warn, error, fatal or silent (default: PXEKIT_LOG_LEVEL,
                        else the config's log.level, else info)
Logs: one line per event on a terminal, JSON lines otherwise (log.pretty in the config decides).`;

type Out = { out: (s: string) => void; err: (s: string) => void };
const stdio: Out = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

/** Core subcommands registered by other modules (`explain`), to keep this file small; plugins add theirs with `commands`. */
export const extraCommands = new Map<string, { summary: string; run: (argv: string[], io: Out) => Promise<number> }>();

/** Runs the CLI; resolves with the exit code (start resolves when the server has closed). */
export async function main(argv: string[], io: Out = stdio): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    // Plugins add commands too (boot-intents: intent, audit-log: audit, and the config's own plugins).
    const fromPlugins = (await pluginCommands(configArg(rest))).commands;
    const more = [
      ...[...extraCommands].filter(([n]) => n !== 'validate').map(([n, c]) => [n, c.summary] as const),
      ...[...fromPlugins].map(([n, [f]]) => [n, `${f!.command.summary} (${f!.plugin.name})`] as const),
    ].sort(([a], [b]) => a.localeCompare(b));
    io.out(
      HELP +
        (more.length ? `\n\nMore commands:\n${more.map(([n, s]) => `  pxekit ${n.padEnd(10)} ${s}`).join('\n')}` : ''),
    );
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    io.out(pkg.version);
    return 0;
  }
  const extra = extraCommands.get(cmd);
  if (extra) return extra.run(rest, io);
  if (cmd !== 'start') {
    const code = await runPluginCommand(argv, io);
    if (code !== undefined) return code;
    io.err(`pxekit: unknown command "${cmd}"\n\n${HELP}`);
    return 2;
  }
  let values: { config?: string | undefined; 'log-level'?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string', short: 'c' },
        'log-level': { type: 'string', short: 'l' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`pxekit ${cmd}: ${(err as Error).message}\n\n${START_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(START_USAGE);
    return 0;
  }
  try {
    const logLevel = (values['log-level'] ?? process.env['PXEKIT_LOG_LEVEL']) as LevelWithSilent | undefined;
    const load = {
      ...(values.config ? { configPath: values.config } : {}),
      ...(logLevel ? { logLevel } : {}),
    };
    const server = await createServerFromConfig(load);
    return await runUntilSignal(server, (replaces) => createServerFromConfig({ ...load, replaces }));
  } catch (err) {
    reportError(err, io);
    return 1;
  }
}

function reportError(err: unknown, io: Out): void {
  if (err instanceof ConfigError) {
    io.err(`pxekit: ${err.issues.length} config problem${err.issues.length === 1 ? '' : 's'} [${err.code}]:`);
    for (const i of err.issues) io.err(`  - ${formatIssue(i)}`);
  } else if (err instanceof PxeError) {
    io.err(`pxekit: ${err.message} [${err.code}]${err.fix ? `\n  fix: ${err.fix}` : ''}`);
  } else {
    io.err(`pxekit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
