/** Test file generation and hashing without holding big files in memory. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, openSync, closeSync, writeSync } from 'node:fs';
import { execFile } from 'node:child_process';

/**
 * Writes `mib` MiB of random data, 1 MiB at a time. Every MiB is different, so a block served from the
 * wrong 32 MiB rollover period (65536 × 512 bytes) would change the hash.
 */
export function writeRandomFile(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(1024 * 1024));
  } finally {
    closeSync(fd);
  }
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Path of an executable found in PATH, or undefined. */
export function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = `${dir}/${bin}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Runs a client binary, bounded by `timeoutMs`; resolves with its exit status and output. */
export function run(
  file: string,
  args: string[],
  timeoutMs: number,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
