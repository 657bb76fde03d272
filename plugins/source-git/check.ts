/**
 * source-git's readiness check (`pxekit validate`): the repository answers `git ls-remote` and has the ref.
 * A remote that does not answer is a warning (validate may run off the boot network; start then serves the
 * cached mirror, or fails when there is none); a missing local repository or ref is an error.
 */
import { existsSync } from 'node:fs';
import type { CheckContext, CheckProblem } from 'pxekit';
import { fromBase } from 'pxekit/kit';
import { redact, runGit } from './git.js';
import type { SourceGitOptions } from './options.js';

/** A URL (`https://`, `git://`, `file://`, `ssh://`) or scp-like `user@host:path`, as opposed to a local path. */
export function isRemoteUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\\:]+@[^/\\:]+:/.test(repo);
}

export async function checkSourceGit(
  { options: o, baseDir, timeoutMs, signal }: CheckContext<SourceGitOptions>,
  mirrorExists: (repo: string) => Promise<boolean>,
): Promise<CheckProblem[]> {
  const remote = isRemoteUrl(o.repo);
  const repo = remote ? o.repo : fromBase(baseDir, o.repo);
  const shown = redact(repo);
  if (!remote && !existsSync(repo))
    return [
      {
        severity: 'error',
        key: 'repo',
        message: `repository ${shown} does not exist`,
        found: 'no such folder',
        expected: 'a git repository (relative paths start at the config file’s folder)',
        fix: 'fix "repo", or clone the repository there',
      },
    ];
  const r = await runGit(['ls-remote', '--', repo], { timeoutMs, signal, maxStdout: 16 << 20 });
  if (r.code !== 0) {
    const why = r.timedOut
      ? `no answer within ${timeoutMs} ms`
      : redact(r.stderr.split('\n').pop() ?? `exit ${r.code}`);
    const cached = remote && (await mirrorExists(repo));
    return [
      {
        severity: remote ? 'warning' : 'error',
        key: 'repo',
        message:
          `repository ${shown} does not answer git ls-remote` +
          (remote
            ? cached
              ? ' (start would serve the cached mirror)'
              : ' (start would fail: no cached mirror yet)'
            : ''),
        found: why,
        expected: 'a repository git can list without a password prompt',
        fix: remote
          ? `check the URL and that this machine reaches it (git ls-remote ${shown}); if validate ` +
            `runs off the boot network, run it on the boot server`
          : 'fix "repo": it must be a git repository',
      },
    ];
  }
  // A commit id cannot be checked without fetching; a branch or tag can.
  if (o.ref === 'HEAD' || /^[0-9a-f]{7,64}$/i.test(o.ref)) return [];
  const refs = r.stdout
    .toString()
    .split('\n')
    .map((l) => l.split('\t')[1])
    .filter((x): x is string => x !== undefined);
  const wanted = [o.ref, `refs/heads/${o.ref}`, `refs/tags/${o.ref}`];
  if (refs.some((x) => wanted.includes(x))) return [];
  const branches = refs.filter((x) => x.startsWith('refs/heads/')).map((x) => x.slice('refs/heads/'.length));
  return [
    {
      severity: 'error',
      key: 'ref',
      message: `ref "${o.ref}" is not a branch or tag of ${shown}`,
      found: JSON.stringify(o.ref),
      expected: branches.length
        ? `a branch (${branches.slice(0, 5).join(', ')}), a tag or a commit`
        : 'a branch, a tag or a commit',
      fix: 'give a ref the repository has (git ls-remote lists them)',
    },
  ];
}
