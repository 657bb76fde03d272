/**
 * `pxekit start --config <file>` as a child process for the reload tests (SIGKILLed after the test if still
 * running), with its JSON log lines parsed as they come and a bounded wait for the n-th line of an event.
 */
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../helpers/proc.js';

const BIN = fileURLToPath(new URL('../../../bin/pxekit.js', import.meta.url));

export type LogLine = Record<string, unknown> & { event?: string };

export function startCli(t: TestContext, dir: string, config: string) {
  const child = spawn(process.execPath, [BIN, 'start', '--config', config], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const output = () => out.slice(-3000);
  const lines = (): LogLine[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const events = (name: string) => lines().filter((l) => l.event === name);
  const waitEvent = (name: string, count: number) =>
    waitFor(() => events(name).length >= count, 45_000, `${count} × ${name}\n${output()}`);
  return { child, output, lines, events, waitEvent };
}
