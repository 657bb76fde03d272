/**
 * The readiness checks of source-git and source-s3 as `pxekit validate` runs them (validateProject):
 * against a real bare repository and a real s3rver on 127.0.0.1. A remote that does not answer is a
 * warning; a missing repository, ref or bucket is an error naming the option and the fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validateProject, type ValidateReport } from '../../../core/index.js';
import { GitFixture } from './git-fixture.js';
import { S3rver, S3RVER_KEYS } from './s3rver.js';

function configWith(plugin: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-vchecks-'));
  writeFileSync(join(dir, 'pxekit.config.json'), JSON.stringify({ dhcp: { mode: 'proxy' }, plugins: [plugin] }));
  return join(dir, 'pxekit.config.json');
}

const problems = (r: ValidateReport) => r.issues.map((i) => `${i.severity} ${i.path ?? ''}: ${i.message}`);

const fx = new GitFixture();
const s3 = new S3rver();
before(async () => {
  await fx.init({ 'ipxe.efi': 'x' });
  await s3.start();
});
after(async () => {
  fx.cleanup();
  await s3.cleanup();
});

test('source-git: a repository that answers with the ref is fine; a wrong ref or a missing repository is an error', async () => {
  const ok = await validateProject({
    configPath: configWith(['source-git', { repo: fx.bare, ref: 'main', cacheDir: fx.cache }]),
  });
  assert.deepEqual(problems(ok), []);

  const badRef = await validateProject({ configPath: configWith(['source-git', { repo: fx.bare, ref: 'nope' }]) });
  const ref = badRef.issues.find((i) => i.path === 'plugins[0] (source-git) options ref');
  assert.ok(ref, problems(badRef).join('\n'));
  assert.equal(ref.severity, 'error');
  assert.match(ref.message, /ref "nope" is not a branch or tag/);
  assert.match(ref.expected ?? '', /a branch \(main\)/);

  const missing = await validateProject({ configPath: configWith(['source-git', { repo: './no-repo-here' }]) });
  assert.equal(missing.issues[0]?.severity, 'error');
  assert.equal(missing.issues[0]?.path, 'plugins[0] (source-git) options repo');
  assert.match(missing.issues[0]?.message ?? '', /repository .*no-repo-here does not exist/);
});

test('source-git: a remote that does not answer is a warning (validate may run off the boot network)', async () => {
  const r = await validateProject({
    configPath: configWith(['source-git', { repo: 'http://127.0.0.1:9/boot.git', cacheDir: join(fx.dir, 'none') }]),
    timeoutMs: 3000,
  });
  assert.equal(r.issues.length, 1, problems(r).join('\n'));
  const [w] = r.issues;
  assert.equal(w?.severity, 'warning');
  assert.match(w?.message ?? '', /does not answer git ls-remote \(start would fail: no cached mirror yet\)/);
  assert.match(w?.fix ?? '', /git ls-remote http:\/\/127\.0\.0\.1:9\/boot\.git/);
  assert.ok(
    r.skipped.some((s) => /source-git could not be set up/.test(s)),
    r.skipped.join('\n'),
  );
});

test('source-s3: a bucket that answers is fine; a missing bucket is an error; no answer is a warning', async () => {
  const base = { endpoint: s3.endpoint, ...S3RVER_KEYS };
  const ok = await validateProject({ configPath: configWith(['source-s3', { bucket: 'boot', ...base }]) });
  assert.deepEqual(problems(ok), []);

  const none = await validateProject({ configPath: configWith(['source-s3', { bucket: 'no-such-bucket', ...base }]) });
  assert.equal(none.issues[0]?.severity, 'error', problems(none).join('\n'));
  assert.equal(none.issues[0]?.path, 'plugins[0] (source-s3) options bucket');
  assert.match(
    none.issues[0]?.message ?? '',
    /bucket s3:\/\/no-such-bucket at http:\/\/127\.0\.0\.1:\d+ does not exist/,
  );

  const down = await validateProject({
    configPath: configWith(['source-s3', { bucket: 'boot', ...base, endpoint: 'http://127.0.0.1:9' }]),
    timeoutMs: 2000,
  });
  assert.equal(down.issues[0]?.severity, 'warning', problems(down).join('\n'));
  assert.equal(down.issues[0]?.path, 'plugins[0] (source-s3) options endpoint');
  assert.match(down.issues[0]?.message ?? '', /does not answer/);
});
