import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startExample } from '../example-server.js';
import { S3rver, S3RVER_KEYS } from '../../test/integration/sources/s3rver.js';
import { GitFixture } from '../../test/integration/sources/git-fixture.js';
import { which } from '../../test/helpers/realnet.js';

const CONFIG = fileURLToPath(new URL('./pxekit.config.yaml', import.meta.url));

test(
  's3-and-git: scripts from git, images from S3, the local overlay for what S3 lacks',
  { skip: !which('git') && 'git not installed', timeout: 90_000 },
  async (t) => {
    const s3 = new S3rver();
    t.after(() => s3.cleanup());
    await s3.start();
    await s3.put('pxe/vmlinuz', 'kernel from s3');
    const repo = new GitFixture();
    t.after(() => repo.cleanup());
    await repo.init({ 'pxe/boot.ipxe': '#!ipxe\necho from git\n', 'README.md': 'not under pxe/\n' });

    const ex = await startExample(t, CONFIG, {
      pluginOptions: {
        'source-git': { repo: repo.bare, cacheDir: repo.cache, refreshSeconds: 0 },
        // s3rver has the bucket `boot`.
        'source-s3': { endpoint: s3.endpoint, bucket: 'boot', ...S3RVER_KEYS },
      },
    });
    const get = async (path: string) => {
      const r = await ex.server.inject.http({ path });
      return { status: r.status, body: r.body.toString() };
    };
    assert.deepEqual(await get('/boot.ipxe'), { status: 200, body: '#!ipxe\necho from git\n' });
    assert.equal((await get('/README.md')).status, 404, 'only the subdir pxe/ is served');
    assert.deepEqual(await get('/images/vmlinuz'), { status: 200, body: 'kernel from s3' });
    assert.match((await get('/images/fallback.txt')).body, /served from examples\/s3-and-git\/local/);
    assert.equal((await get('/images/missing.img')).status, 404);
  },
);
