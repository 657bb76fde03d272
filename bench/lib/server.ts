/**
 * Starts a benchmark target inside the LAN's server namespace, waits (bounded) for its ready
 * check, and samples its resident memory (the process and its children, from /proc) until it
 * is stopped.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Tracked } from '../../test/helpers/proc.js';
import { benchDir } from './bench-lan.js';
import type { Target, TargetContext } from './types.js';

const READY_TIMEOUT_MS = 20_000;
const RSS_INTERVAL_MS = 100;

export interface RunningServer {
  proc: Tracked;
  /** Highest RSS seen so far, in KiB (whole process tree). */
  peakRssKiB(): number;
  /** CPU seconds (user + system) the process tree has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Context fields a bench supplies; the work dir is created per start. */
export type BaseContext = Omit<TargetContext, 'workDir'>;

export async function startServer(target: Target, base: BaseContext): Promise<RunningServer> {
  const why = target.unavailable?.();
  if (why) throw new Error(why);
  const ctx: TargetContext = { ...base, workDir: benchDir(target.name) };
  const spec = await target.prepare(ctx);
  const proc = ctx.lan.spawnIn(ctx.lan.srvNs, spec.cmd, spec.args, { env: spec.env, cwd: ctx.workDir });
  let peak = 0;
  const sample = () => {
    if (proc.pid !== undefined) peak = Math.max(peak, treeRssKiB(proc.pid));
  };
  const timer = setInterval(sample, RSS_INTERVAL_MS);
  const stop = async () => {
    clearInterval(timer);
    await proc.stop(5_000);
  };
  try {
    // Whichever comes first: ready, the process exiting, or the bound.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      spec.ready(ctx),
      proc.exitPromise.then((c) => {
        throw new Error(`exited (${c}) before it was ready`);
      }),
      new Promise((_, rej) => {
        bound = setTimeout(() => rej(new Error(`not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(bound));
  } catch (e) {
    await stop();
    const out = proc.output().trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${(e as Error).message}${out ? `: ${out}` : ''}`, { cause: e });
  }
  sample();
  return {
    proc,
    peakRssKiB: () => {
      sample();
      return peak;
    },
    cpuSeconds: () => (proc.pid === undefined ? 0 : treeCpuSeconds(proc.pid)),
    stop,
  };
}

/** RSS of `pid` plus all its descendants, in KiB; 0 if it is gone. */
export function treeRssKiB(pid: number): number {
  return sumOverTree(pid, rssKiB);
}

/**
 * CPU seconds (user + system) of `pid` and its live descendants, plus what reaped children used (a
 * reaped child is no longer in the tree, so nothing counts twice); 0 if the process is gone.
 */
export function treeCpuSeconds(pid: number): number {
  const [user, sys] = treeUserSysSeconds(pid);
  return user + sys;
}

/** User and system CPU seconds apart, counted as `treeCpuSeconds` counts them. */
export function treeUserSysSeconds(pid: number): [number, number] {
  let [user, sys] = [0, 0];
  for (const p of treePids(pid)) {
    const [u, s] = cpuTicks(p);
    user += u;
    sys += s;
  }
  return [user / 100, sys / 100]; // USER_HZ is 100 on Linux
}

/** `pid` and all its descendants (bounded walk). */
export function treePids(pid: number): number[] {
  const seen = new Set<number>();
  const stack = [pid];
  while (stack.length > 0 && seen.size < 10_000) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    stack.push(...children(p));
  }
  return [...seen];
}

/** `f` summed over `pid` and all its descendants. */
function sumOverTree(pid: number, f: (pid: number) => number): number {
  return treePids(pid).reduce((total, p) => total + f(p), 0);
}

/** [user, system] ticks of `pid`, each with its reaped children's; [0, 0] if it is gone. */
function cpuTicks(pid: number): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3; utime 14, stime 15,
    // cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[11]) + Number(f[13]), Number(f[12]) + Number(f[14])];
  } catch {
    return [0, 0];
  }
}

function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (s) out.push(...s.split(/\s+/).map(Number));
    }
  } catch {
    /* process gone, or no CONFIG_PROC_CHILDREN: count the process alone */
  }
  return out;
}
