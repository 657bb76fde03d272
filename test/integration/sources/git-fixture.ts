/** Test helper: a work tree and a bare "remote" repository made with the git CLI in a temp folder. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runOk } from '../../helpers/proc.js';

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'pxekit test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'pxekit test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await runOk('git', args, { cwd, env, timeoutMs: 60_000 })).stdout.trim();
}

export class GitFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'pxekit-gitfx-'));
  readonly work = join(this.dir, 'work');
  readonly bare = join(this.dir, 'remote.git');
  /** A mirror folder for the plugin, inside our temp folder so cleanup removes it. */
  readonly cache = join(this.dir, 'mirror');

  /** Creates the work tree with `files`, commits, and makes the bare remote from it. */
  async init(files: Record<string, string | Buffer>): Promise<string> {
    mkdirSync(this.work, { recursive: true });
    await git(this.work, 'init', '-q', '-b', 'main');
    const c = await this.commit(files, 'initial');
    await git(this.dir, 'clone', '-q', '--bare', this.work, this.bare);
    await git(this.work, 'remote', 'add', 'origin', this.bare);
    return c;
  }

  /** Writes files (a `null`-ish empty string deletes nothing; use `remove`), commits; returns the commit. */
  async commit(
    files: Record<string, string | Buffer>,
    message: string,
    symlinks: Record<string, string> = {},
  ): Promise<string> {
    for (const [p, body] of Object.entries(files)) {
      mkdirSync(dirname(join(this.work, p)), { recursive: true });
      writeFileSync(join(this.work, p), body);
    }
    for (const [p, target] of Object.entries(symlinks)) symlinkSync(target, join(this.work, p));
    await git(this.work, 'add', '-A');
    await git(this.work, 'commit', '-q', '-m', message);
    return git(this.work, 'rev-parse', 'HEAD');
  }

  async push(...refs: string[]): Promise<void> {
    await git(this.work, 'push', '-q', 'origin', ...(refs.length ? refs : ['main']));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
