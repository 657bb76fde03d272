/**
 * 20 concurrent curl GETs of one object through the real HTTP server, from source-s3 (a real s3rver) and
 * source-git, each with its cache on and off: every byte of every response checked. With the cache on the
 * object is fetched once (one `files.cache.fill`), and once cached it goes by sendfile(2) like a disk file,
 * whole and ranged.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sourceS3 from '../../../plugins/source-s3/index.js';
import sourceGit from '../../../plugins/source-git/index.js';
import type { PluginDefinition } from '../../../core/plugin.js';
import { kernelSendCount } from '../../../core/http/send-kernel.js';
import { nativeBinding } from '../../../core/native/binding.js';
import { run } from '../../helpers/proc.js';
import { curl, hasCurl, startHttpFixture, type HttpFixture } from '../http/fixture.js';
import { GitFixture } from './git-fixture.js';
import { S3rver, S3RVER_KEYS } from './s3rver.js';
import { patternBytes } from './helpers.js';

const MiB = 1 << 20;
const N = 20;
const object = patternBytes(12 * MiB + 321, 11);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const want = sha(object);
const s3 = new S3rver();
const fx = new GitFixture();
const tmp = mkdtempSync(join(tmpdir(), 'pxekit-conc-'));
const skip = hasCurl ? false : 'curl is not installed';

before(async () => {
  if (skip) return;
  await s3.start();
  await s3.put('obj/kernel.bin', object);
  await fx.init({ 'kernel.bin': object });
});
after(async () => {
  await s3.cleanup();
  fx.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

/** N curl processes at once; returns each one's HTTP status and body hash. */
async function concurrentGets(
  f: HttpFixture,
  path: string,
  tag: string,
): Promise<Array<{ status: string; sha: string }>> {
  const curlOne = `curl -sS --http1.1 --max-time 60 -o ${tmp}/${tag}.$i -w '%{http_code}\\n' ${f.base}${path}`;
  const script = `for i in $(seq 1 ${N}); do ${curlOne} & done; wait`;
  const r = await run('bash', ['-c', script], { timeoutMs: 90_000 });
  const statuses = r.stdout.split('\n').filter(Boolean);
  assert.equal(statuses.length, N, `curl output: ${r.stdout} ${r.stderr}`);
  const out = [];
  for (let i = 1; i <= N; i++)
    out.push({ status: statuses[i - 1]!, sha: sha(await readFile(join(tmp, `${tag}.${i}`))) });
  return out;
}

const fills = (lines: string[]) => lines.filter((l) => l.includes('"event":"files.cache.fill"')).length;

const cases: Array<{ name: string; cached: boolean; plugin: () => PluginDefinition; path: string }> = [
  {
    name: 'source-s3, cache on',
    cached: true,
    path: '/kernel.bin',
    plugin: () =>
      sourceS3({
        bucket: 'boot',
        endpoint: s3.endpoint,
        ...S3RVER_KEYS,
        prefix: 'obj',
        cache: { dir: join(tmp, 's3-cache'), maxBytes: 64 * MiB },
      }) as PluginDefinition,
  },
  {
    name: 'source-s3, no cache',
    cached: false,
    path: '/kernel.bin',
    plugin: () =>
      sourceS3({ bucket: 'boot', endpoint: s3.endpoint, ...S3RVER_KEYS, prefix: 'obj' }) as PluginDefinition,
  },
  {
    name: 'source-git, blob cache on (default)',
    cached: true,
    path: '/kernel.bin',
    plugin: () => sourceGit({ repo: fx.bare, cacheDir: join(tmp, 'mirror-a'), refreshSeconds: 0 }) as PluginDefinition,
  },
  {
    name: 'source-git, blob cache off',
    cached: false,
    path: '/kernel.bin',
    plugin: () =>
      sourceGit({
        repo: fx.bare,
        cacheDir: join(tmp, 'mirror-b'),
        refreshSeconds: 0,
        blobCache: { maxBytes: 0 },
      }) as PluginDefinition,
  },
];

for (const c of cases) {
  test(`${N} concurrent GETs of one object, every byte checked: ${c.name}`, { skip, timeout: 240_000 }, async () => {
    const logLines: string[] = [];
    const f = await startHttpFixture({ plugins: [c.plugin()], logLines });
    try {
      const first = await concurrentGets(f, c.path, `${c.name.replace(/\W+/g, '-')}-1`);
      assert.deepEqual(
        first.filter((r) => r.status !== '200' || r.sha !== want),
        [],
        'every first response whole and exact',
      );
      assert.equal(fills(logLines), c.cached ? 1 : 0, 'fetched into the cache once');
      const sent = kernelSendCount();
      const again = await concurrentGets(f, c.path, `${c.name.replace(/\W+/g, '-')}-2`);
      assert.deepEqual(
        again.filter((r) => r.status !== '200' || r.sha !== want),
        [],
        'every second response whole and exact',
      );
      const ranged = await curl(f, c.path, ['-r', '1000-5000999']);
      assert.equal(ranged.status, 206);
      assert.equal(sha(ranged.body), sha(object.subarray(1000, 5001000)));
      assert.equal(fills(logLines), c.cached ? 1 : 0, 'still one fetch');
      if (c.cached && nativeBinding().binding)
        assert.equal(kernelSendCount() - sent, N + 1, 'cached: every body by sendfile, the range too');
      if (!c.cached) assert.equal(kernelSendCount() - sent, 0, 'no cache: streamed');
    } finally {
      await f.close();
    }
  });
}
