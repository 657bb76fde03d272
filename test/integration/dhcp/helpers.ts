/**
 * Helpers for the DHCP realnet tests: pxekit started with the CLI inside the server namespace (a
 * process cannot enter a namespace in-process), its JSON log lines read from a file, client scripts
 * that record what dhclient/udhcpc saw, and polling with a bound.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor, type RunResult, type Tracked } from '../../helpers/proc.js';
import type { Lan } from '../../helpers/realnet.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const udpTool = fileURLToPath(new URL('./udp-tool.mjs', import.meta.url));

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `pxk-${prefix}-`));
}

export interface Pxekit {
  logFile: string;
  proc: Tracked;
  /** Parsed JSON log lines so far. */
  lines(): Record<string, unknown>[];
  /** Log lines with this `event`. */
  events(event: string): Record<string, unknown>[];
  /** Sends a signal to the pxekit process (SIGHUP: reload the config). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** Starts `pxekit start --config` in the LAN's server namespace and waits for UDP port `port`. */
export function startPxekit(lan: Lan, dir: string, config: object, port = 67): Promise<Pxekit> {
  return spawnPxekit(lan, lan.srvNs, dir, 'pxekit', config, port);
}

/**
 * Starts `pxekit start --config <dir>/<name>.json` with `config` in namespace `ns` (the CLI: a process cannot
 * enter a namespace in-process), its JSON log in `<dir>/<name>.log`, and waits until it listens on UDP `port`;
 * the error then carries the end of its log.
 */
export async function spawnPxekit(
  lan: Lan,
  ns: string,
  dir: string,
  name: string,
  config: object,
  port = 67,
): Promise<Pxekit> {
  const cfg = path.join(dir, `${name}.json`);
  const logFile = path.join(dir, `${name}.log`);
  writeFileSync(cfg, JSON.stringify(config, null, 2));
  const bin = path.join(repoRoot, 'bin', 'pxekit.js');
  // exec: the tracked PID is pxekit's own, so stop() and kill signal it directly.
  const proc = lan.spawnIn(
    ns,
    'bash',
    ['-c', `exec "${process.execPath}" "${bin}" start --config "${cfg}" >"${logFile}" 2>&1`],
    { cwd: repoRoot },
  );
  const lines = () => jsonLines(logFile);
  try {
    await lan.waitForUdpListen(ns, port, 30_000);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\n--- ${name} ---\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : proc.output()}`,
      { cause: err },
    );
  }
  return {
    logFile,
    proc,
    lines,
    events: (event) => lines().filter((l) => l.event === event),
    signal: (sig) => proc.child.kill(sig),
    stop: () => proc.stop(5_000),
  };
}

/** The JSON lines of a log file so far (a partial last line is skipped). */
export function jsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  const out: Record<string, unknown>[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* partial line */
    }
  }
  return out;
}

/** Writes an executable shell script. */
export function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Lines of a file (empty when it does not exist yet). */
export function fileLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Polls `fn` until it returns a truthy value (bounded); the error carries `context()`. */
export async function until<T>(
  fn: () => T | undefined | false | null,
  ms: number,
  what: string,
  context: () => string,
): Promise<T> {
  let found: T | undefined;
  try {
    await waitFor(
      () => {
        const v = fn();
        if (v) found = v;
        return Boolean(v);
      },
      ms,
      what,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${context()}`, { cause: err });
  }
  return found as T;
}

/** udhcpc script: records the event and env, configures the address so renew/release work for real. */
export function udhcpcScript(dir: string, out: string): string {
  return script(
    dir,
    'udhcpc.sh',
    [
      `echo "$1 ip=$ip mask=$mask serverid=$serverid siaddr=$siaddr boot_file=$boot_file" >> ${out}`,
      'case "$1" in',
      '  bound|renew) /usr/sbin/ip addr replace "$ip/$mask" dev "$interface" ;;',
      '  deconfig) /usr/sbin/ip addr flush dev "$interface" ;;',
      'esac',
      'exit 0',
    ].join('\n'),
  );
}

/** Option 60 of a BIOS PXE ROM, for udhcpc's `-V`. */
export const PXE_VENDOR = 'PXEClient:Arch:00000:UNDI:002001';

/**
 * busybox udhcpc in the client namespace for one lease, then exit (`-q -n`; 5 DISCOVERs 2 s apart), recording
 * through `udhcpcScript` into `out`. `pxeVendor`: sends it as option 60 and asks for broadcast replies (`-B`),
 * as a PXE ROM does.
 */
export function udhcpcOnce(
  lan: Lan,
  dir: string,
  out: string,
  o: { iface?: string; pxeVendor?: string } = {},
): Promise<RunResult> {
  const pxe = o.pxeVendor ? ['-B', '-V', o.pxeVendor] : [];
  const args = ['udhcpc', '-f', '-q', '-n', '-i', o.iface ?? 'eth0', '-t', '5', '-T', '2', ...pxe];
  return lan.execIn(lan.cliNs, 'busybox', [...args, '-s', udhcpcScript(dir, out)], { timeoutMs: 40_000 });
}

/** dhclient script (dhclient clears the environment, so paths are written in). */
export function dhclientScript(dir: string, out: string): string {
  return script(
    dir,
    'dhclient.sh',
    [
      `echo "$reason $new_ip_address $old_ip_address" >> ${out}`,
      'case "$reason" in',
      '  BOUND|RENEW|REBIND|REBOOT) /usr/sbin/ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;',
      '  EXPIRE|FAIL|RELEASE|STOP) /usr/sbin/ip addr flush dev "$interface" ;;',
      'esac',
      'exit 0',
    ].join('\n'),
  );
}

/** Adds a veth client interface `name` with `mac` to the client namespace's bridge (a second client). */
export async function addClientIface(lan: Lan, name: string, mac: string): Promise<void> {
  const ip = (...args: string[]) => lan.execIn(lan.cliNs, '/usr/sbin/ip', args, { timeoutMs: 10_000 });
  for (const args of [
    ['link', 'add', name, 'address', mac, 'type', 'veth', 'peer', 'name', `${name}-br`],
    ['link', 'set', `${name}-br`, 'master', 'br0', 'up'],
    ['link', 'set', name, 'up'],
  ]) {
    const r = await ip(...args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  }
}
