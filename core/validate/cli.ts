import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { extraCommands } from '../cli.js';
import { createLogger } from '../log.js';
import { validateProject, type ValidateIssue, type ValidateReport } from './run.js';

export const VALIDATE_USAGE = `Usage: pxekit validate [--config PATH] [--strict] [--timeout SECONDS] [--json] [--log-level LEVEL]
  Checks a config as \`start\` would, without binding any socket, and lists every problem at once:
  the file, the core schema, plugins that cannot be found, every plugin's options, each plugin's
  readiness check (folders exist, templates compile, git/S3 remotes answer), what start-up would reject,
  and the boot file every client architecture would get (is it in some source?).
  --strict          warnings fail too (exit 1)
  --timeout S       time a remote (git, S3) may take to answer, default 5
  --json            the report as JSON on stdout
  --log-level L     show the plugins' log lines on stderr (default silent)
Exit: 0 no errors (warnings are printed), 1 errors (or warnings with --strict), 2 bad arguments.`;

type Out = { out: (s: string) => void; err: (s: string) => void };

/** One problem on one line: `error: FILE: KEY: what (found X, expected Y). Fix: how`. */
export function formatValidateIssue(i: ValidateIssue): string {
  const where = [i.file, i.path].filter(Boolean).join(': ');
  const fe = [i.found !== undefined ? `found ${i.found}` : '', i.expected !== undefined ? `expected ${i.expected}` : '']
    .filter(Boolean)
    .join(', ');
  return `${i.severity}: ${where ? `${where}: ` : ''}${i.message}${fe ? ` (${fe})` : ''}. Fix: ${i.fix}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The summary line: `FILE: OK (…)`, or the counts. */
export function summaryLine(r: ValidateReport, strict: boolean): { ok: boolean; line: string } {
  const errors = r.issues.filter((i) => i.severity === 'error').length;
  const warnings = r.issues.length - errors;
  const ok = errors === 0 && (!strict || warnings === 0);
  const what = `${plural(r.plugins.length, 'plugin')}: ${r.plugins.join(', ') || 'none'}${r.mode ? `; dhcp ${r.mode}` : ''}`;
  const file = r.file ?? 'config';
  if (errors === 0 && warnings === 0) return { ok, line: `${file}: OK (${what})` };
  if (errors === 0)
    return {
      ok,
      line: `${file}: ${ok ? 'OK' : 'FAILED (--strict)'} with ${plural(warnings, 'warning')} (${what})`,
    };
  return { ok, line: `${file}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}` };
}

/** `pxekit validate …` */
export async function validateCommand(argv: string[], io: Out): Promise<number> {
  let values: {
    config?: string;
    strict?: boolean;
    timeout?: string;
    json?: boolean;
    'log-level'?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        strict: { type: 'boolean' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        'log-level': { type: 'string', short: 'l' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`pxekit validate: ${(err as Error).message}\n\n${VALIDATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(VALIDATE_USAGE);
    return 0;
  }
  const seconds = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    io.err(`pxekit validate: --timeout must be a number of seconds above 0\n\n${VALIDATE_USAGE}`);
    return 2;
  }
  const level = values['log-level'] as LevelWithSilent | undefined;
  const report = await validateProject({
    ...(values.config ? { configPath: values.config } : {}),
    timeoutMs: seconds * 1000,
    logger: createLogger({ level: level ?? 'silent', pretty: false, destination: process.stderr }),
  });
  const strict = values.strict === true;
  const { ok, line } = summaryLine(report, strict);
  if (values.json) {
    io.out(JSON.stringify({ ok, ...report }, null, 2));
    return ok ? 0 : 1;
  }
  for (const i of report.issues) io.err(formatValidateIssue(i));
  for (const s of report.skipped) io.err(`not checked: ${s}`);
  (ok ? io.out : io.err)(line);
  return ok ? 0 : 1;
}

extraCommands.set('validate', {
  summary: 'check a config as start would (no sockets) and list every problem; exit 1 on errors',
  run: validateCommand,
});
