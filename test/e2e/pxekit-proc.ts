/**
 * pxekit as a real process inside a namespace, started from an example config exactly as a user
 * would (`node bin/pxekit.js start --config ...`), with its JSON log lines (stdout) parsed as they
 * arrive: the e2e tests assert on DHCP, TFTP and HTTP events from them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lan } from '../helpers/realnet.js';
import type { Tracked } from '../helpers/proc.js';
import { waitFor } from '../helpers/proc.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export type LogLine = Record<string, unknown> & { event?: string; mac?: string };

export interface PxekitProc {
  proc: Tracked;
  /** Every parsed JSON line so far (non-JSON output is kept in `proc.output()`). */
  lines: LogLine[];
  /** Protocols pxekit reported listening on (`server.listening`). */
  listening: Array<{ protocol: string; address: string; port: number }>;
  events(event: string, mac?: string): LogLine[];
  /** Log lines from this point on (for per-case assertions on a shared server). */
  mark(): () => LogLine[];
  stop(): Promise<void>;
}

/** Starts pxekit in the LAN's server namespace and waits (bounded) until it reports listening. */
export async function startPxekit(lan: Lan, exampleConfig: string, timeoutMs = 30_000): Promise<PxekitProc> {
  const config = path.resolve(REPO, exampleConfig); // a relative path is an example of this repository
  const proc = lan.spawnIn(
    lan.srvNs,
    process.execPath,
    [path.join(REPO, 'bin/pxekit.js'), 'start', '--config', config, '--log-level', 'debug'],
    { cwd: REPO },
  );
  const lines: LogLine[] = [];
  let partial = '';
  proc.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      if (!l.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(l) as LogLine);
      } catch {
        /* a torn line: ignore */
      }
    }
  });
  const events = (event: string, mac?: string) =>
    lines.filter((l) => l.event === event && (mac === undefined || l.mac === mac));
  const ready = await waitFor(
    () => {
      if (proc.exited()) throw new Error(`pxekit exited before listening:\n${proc.output().slice(-4000)}`);
      return lines.find((l) => l.event === 'server.listening');
    },
    timeoutMs,
    `pxekit (${exampleConfig}) to listen`,
  );
  const listening = (ready['listening'] as PxekitProc['listening'] | undefined) ?? [];
  return {
    proc,
    lines,
    listening,
    events,
    mark() {
      const from = lines.length;
      return () => lines.slice(from);
    },
    stop: () => proc.stop(5_000),
  };
}
