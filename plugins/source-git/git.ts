/**
 * Running the git CLI safely: argument arrays (never a shell), no prompts, bounded time and output,
 * and an environment that cannot point git at another repository.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ByteRange } from 'pxekit';
import { SliceStream } from 'pxekit/kit';

export interface GitResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** The environment for every git child: no terminal prompts, no credential pop-ups, no inherited repo. */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GIT_TERMINAL_PROMPT: '0', GCM_INTERACTIVE: 'never', LC_ALL: 'C' };
  // ssh remotes: fail instead of asking for a password or a host key confirmation.
  env['GIT_SSH_COMMAND'] ??= 'ssh -o BatchMode=yes';
  for (const k of [
    'GIT_DIR',
    'GIT_WORK_TREE',
    'GIT_INDEX_FILE',
    'GIT_OBJECT_DIRECTORY',
    'GIT_ALTERNATE_OBJECT_DIRECTORIES',
    'GIT_NAMESPACE',
    'GIT_CEILING_DIRECTORIES',
  ])
    delete env[k];
  return env;
}

export interface GitRunOptions {
  timeoutMs: number;
  maxStdout?: number;
  cwd?: string;
  signal?: AbortSignal;
}

/** Runs git to completion (or kills it at `timeoutMs`), keeping at most `maxStdout` bytes of output. */
export function runGit(args: readonly string[], opts: GitRunOptions): Promise<GitResult> {
  const max = opts.maxStdout ?? 64 << 20;
  return new Promise((resolve) => {
    // `signal` (server closing) kills git at once: a hung fetch must not hold up shutdown.
    const child = spawn('git', args, {
      env: gitEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      killSignal: 'SIGKILL',
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const out: Buffer[] = [];
    let outLen = 0;
    let stderr = '';
    let timedOut = false;
    let overflow = false;
    child.stdout.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen > max) {
        overflow = true;
        child.kill('SIGKILL');
      } else out.push(b);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-8192);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      if (err.name !== 'AbortError') stderr += String(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (overflow) stderr += `\noutput larger than ${max} bytes`;
      resolve({ code: overflow ? -1 : code, stdout: Buffer.concat(out), stderr: stderr.trim(), timedOut });
    });
  });
}

/** Like runGit, but throws an Error with git's message unless it exited 0. */
export async function gitOk(args: readonly string[], opts: GitRunOptions): Promise<Buffer> {
  const r = await runGit(args, opts);
  if (r.code !== 0) {
    const why = opts.signal?.aborted
      ? 'cancelled (closing)'
      : r.timedOut
        ? `timed out after ${opts.timeoutMs} ms`
        : `exit ${String(r.code)}`;
    throw new Error(
      `git ${args
        .filter((a) => !a.startsWith('-c'))
        .slice(0, 4)
        .join(' ')}: ${why}${r.stderr ? `: ${redact(r.stderr)}` : ''}`,
    );
  }
  return r.stdout;
}

/**
 * Streams one blob (or an inclusive range of it) with constant memory: `git cat-file blob` piped out.
 * The child is killed when the reader stops early, and a git failure becomes a stream error.
 */
export function catBlob(gitDir: string, oid: string, range?: ByteRange): Readable {
  const child = spawn('git', ['--git-dir', gitDir, 'cat-file', 'blob', oid], {
    env: gitEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-2048);
  });
  const out: Readable = range ? child.stdout.pipe(new SliceStream(range)) : child.stdout;
  let finished = false;
  out.once('end', () => {
    finished = true;
    if (range) child.kill();
  });
  out.once('close', () => {
    if (!finished) child.kill();
  });
  child.on('error', (err) => out.destroy(err));
  child.on('exit', (code, signal) => {
    if (code !== 0 && !finished && signal === null)
      out.destroy(new Error(`git cat-file ${oid} exited ${String(code)}: ${stderr.trim()}`));
  });
  return out;
}

/** Hides credentials in URLs (`https://user:token@host` → `https://***@host`) before logging. */
export function redact(s: string): string {
  return s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}
