/**
 * Child-process helpers for tests and benches: every run is bounded in time, every
 * spawned process is tracked so that its owner can stop it (and only it) later.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Result of a bounded run. `code` is null when the process died by a signal (e.g. our timeout). */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  elapsedMs: number;
}

export interface RunOptions {
  /** Hard bound: SIGTERM at this point, SIGKILL 2 s later. Required on purpose. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed (stdin is /dev/null otherwise). */
  input?: string;
  /** Keep at most this many characters of stdout/stderr each (default 1 MiB), the tail wins. */
  maxOutput?: number;
}

const KILL_GRACE_MS = 2_000;

/** Run a command to completion (or to its timeout) and collect its output. Never throws on exit codes. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const max = opts.maxOutput ?? 1 << 20;
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout = (stdout + d).slice(-max);
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-max);
  });
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  }, opts.timeoutMs);
  let spawnError: Error | undefined;
  // 'close' waits for stdio to end; a grandchild holding the pipes open is bounded by the SIGKILL
  // above. A command that cannot be spawned only emits 'error'.
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('close', (c, s) => resolve([c, s]));
    child.on('error', (e) => {
      spawnError = e;
      if (child.pid === undefined) resolve([null, null]);
    });
  });
  clearTimeout(timer);
  if (killTimer) clearTimeout(killTimer);
  if (spawnError && code === null && signal === null) {
    return {
      stdout,
      stderr: stderr + String(spawnError),
      code: 127,
      signal: null,
      timedOut,
      elapsedMs: Date.now() - started,
    };
  }
  return { stdout, stderr, code, signal, timedOut, elapsedMs: Date.now() - started };
}

/** Like `run`, but throws (with the output in the message) unless the exit code is 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs} ms` : `exit ${r.code ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${tail(r.stderr || r.stdout, 2000)}`);
  }
  return r;
}

/** A long-running child with its output kept (tail) for diagnostics. */
export interface Tracked {
  child: ChildProcess;
  pid: number | undefined;
  /** Last output of stdout+stderr, interleaved (up to 64 KiB). */
  output(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /** Resolves with the exit code (or signal name) when it exits. */
  exitPromise: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawn a long-running child whose stdout/stderr are captured; the caller (or a registry) stops it. */
export function spawnTracked(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Tracked {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  const keep = (d: Buffer | string) => {
    out = (out + d.toString()).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const exitPromise = new Promise<number | string | null>((resolve) => {
    child.on('error', (e) => {
      keep(`\nspawn error: ${e.message}\n`);
      done = true;
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal);
    });
  });
  const stop = async (graceMs = 3_000) => {
    if (done || child.pid === undefined) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (!done) child.kill('SIGKILL');
    }, graceMs);
    await exitPromise;
    clearTimeout(t);
  };
  return { child, pid: child.pid, output: () => out, exited: () => done, exitPromise, stop };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `cond` every `intervalMs` until it is truthy or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() >= end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The last `n` characters of a string (for error messages). */
export function tail(s: string, n: number): string {
  return s.length > n ? `...${s.slice(-n)}` : s;
}
