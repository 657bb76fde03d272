/**
 * Waits for the machine to be quiet before a bench starts: dirty pages written back (`sync`) and the CPUs at
 * least 90 % idle over one second, for at most `maxMs`. The previous bench can leave work behind that the
 * next one would be measured under: after the 200-client TFTP runs the 1-minute load was 34 when the HTTP
 * bench began (2026-12-07 03:00 UTC), and pxekit's 1 GiB rows came out 0.88x against 0.92-1.00x on a quiet
 * machine. Returns what it saw, for the progress log.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Idle and total jiffies over all CPUs (/proc/stat's first line). */
function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { idle, total: fields.reduce((a, b) => a + b, 0) };
}

export async function waitQuiet(maxMs = 30_000): Promise<string> {
  const t0 = Date.now();
  spawnSync('sync', { timeout: maxMs });
  let idle = 0;
  while (Date.now() - t0 < maxMs) {
    const a = cpuTimes();
    await sleep(1000);
    const b = cpuTimes();
    idle = b.total > a.total ? (b.idle - a.idle) / (b.total - a.total) : 1;
    if (idle >= 0.9) break;
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  return `${(idle * 100).toFixed(0)} % idle after ${secs} s${idle < 0.9 ? ' (not quiet: measured anyway)' : ''}`;
}
