/**
 * pxekit serving the HTTP bench files from the other file sources (issue 6's benchmark: disk, S3 and git
 * against nginx from disk), set up as an operator would for speed: the on-disk cache on, in the work dir
 * (fresh, so empty, at every start).
 * - `pxekit-s3`: source-s3 against s3rver (npm, dev dependency) started in the server namespace on
 *   127.0.0.1:9000; every bench file is uploaded with curl (SigV4) before pxekit starts. s3rver runs
 *   beside pxekit, so the RSS column is pxekit's alone; the LAN teardown stops s3rver.
 * - `pxekit-git`: source-git on a local repository with one commit holding the files (made here with
 *   `git add`/`commit`), mirrored into the work dir at start, blob cache beside the mirror.
 * The first request for a file (the "cold" row) is the uncached fetch, bounded by the store: s3rver (a
 * Node server reading its folder) or git inflating the blob. Later requests are served from the cache file
 * like source-disk's files (sendfile).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { which } from '../../test/helpers/realnet.js';
import type { Target, TargetContext } from '../lib/types.js';
import { pxekitTarget } from './pxekit.js';

const S3_PORT = 9000;
/** Cache bound: room for every bench file (1 GiB + 64 MiB). */
const CACHE_BYTES = 2 * 1024 ** 3;
const S3_KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function s3rverBin(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  } catch {
    return undefined;
  }
}

/** `files`: the bench's files (in the bench root), all uploaded. */
export function pxekitS3Target(files: readonly string[]): Target {
  const t = pxekitTarget({
    name: 'pxekit-s3',
    note: 'source-s3 <- s3rver 3.7 on 127.0.0.1, cache on (cold row: uncached fetch; RSS: pxekit only)',
    async sources(ctx) {
      const bin = s3rverBin()!;
      // --openssl-legacy-provider: s3rver 3.7.1 encrypts list continuation tokens with DES (dependencies.md 4.1).
      ctx.lan.spawnIn(ctx.lan.srvNs, process.execPath, [
        '--openssl-legacy-provider',
        bin,
        '-d',
        path.join(ctx.workDir, 's3rver'),
        '-a',
        '127.0.0.1',
        '-p',
        String(S3_PORT),
        '--configure-bucket',
        'boot',
      ]);
      await ctx.lan.waitForTcpListen(ctx.lan.srvNs, S3_PORT, 20_000);
      for (const file of files) await upload(ctx, file);
      return [
        [
          'source-s3',
          {
            bucket: 'boot',
            endpoint: `http://127.0.0.1:${S3_PORT}`,
            region: 'us-east-1',
            ...S3_KEYS,
            cache: { dir: path.join(ctx.workDir, 's3-cache'), maxBytes: CACHE_BYTES },
          },
        ],
      ];
    },
  });
  const pxekitMissing = t.unavailable;
  return {
    ...t,
    services: ['http'],
    unavailable: () => pxekitMissing?.() ?? (s3rverBin() ? undefined : 's3rver not installed (npm dev dependency)'),
  };
}

async function upload(ctx: TargetContext, file: string): Promise<void> {
  const put = await ctx.lan.execIn(
    ctx.lan.srvNs,
    'curl',
    [
      '-sS',
      '--fail',
      '--max-time',
      '180',
      '--aws-sigv4',
      'aws:amz:us-east-1:s3',
      '--user',
      `${S3_KEYS.accessKeyId}:${S3_KEYS.secretAccessKey}`,
      '-H',
      'x-amz-content-sha256: UNSIGNED-PAYLOAD',
      '-T',
      path.join(ctx.root, file),
      `http://127.0.0.1:${S3_PORT}/boot/${file}`,
    ],
    { timeoutMs: 190_000 },
  );
  if (put.code !== 0)
    throw new Error(`upload of ${file} to s3rver failed (curl ${String(put.code)}): ${put.stderr.slice(-200)}`);
}

/** `files`: the bench's files (in the bench root), all committed. */
export function pxekitGitTarget(files: readonly string[]): Target {
  const t = pxekitTarget({
    name: 'pxekit-git',
    note: 'source-git <- local repository, blob cache on (cold row: uncached fetch, git cat-file)',
    async sources(ctx) {
      const repo = path.join(ctx.workDir, 'repo');
      mkdirSync(repo, { recursive: true });
      const git = (args: string[]) => {
        const r = spawnSync('git', args, { cwd: repo, timeout: 180_000, encoding: 'utf8' });
        if (r.status !== 0)
          throw new Error(`git ${args[0] ?? ''} failed: ${(r.stderr || String(r.error)).slice(-200)}`);
      };
      git(['init', '-q']);
      for (const file of files) {
        const copy = spawnSync('cp', ['--sparse=always', path.join(ctx.root, file), path.join(repo, file)], {
          timeout: 60_000,
        });
        if (copy.status !== 0) throw new Error(`copying ${file} into the repository failed`);
      }
      git(['add', ...files]);
      git(['-c', 'user.name=bench', '-c', 'user.email=bench@pxekit.invalid', 'commit', '-qm', 'bench files']);
      const cacheDir = path.join(ctx.workDir, 'git-cache');
      return [['source-git', { repo, cacheDir, refreshSeconds: 0, blobCache: { maxBytes: CACHE_BYTES } }]];
    },
  });
  const pxekitMissing = t.unavailable;
  return {
    ...t,
    services: ['http'],
    unavailable: () => pxekitMissing?.() ?? (which('git') ? undefined : 'git not installed'),
  };
}
