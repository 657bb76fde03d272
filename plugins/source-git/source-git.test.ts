import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import sourceGit from './index.js';
import sourceDisk from 'pxekit/plugins/source-disk';
import { GitFixture, git } from '../../test/integration/sources/git-fixture.js';
import { logSink, patternBytes, readAll, startSources } from '../../test/integration/sources/helpers.js';
import { createServer } from 'pxekit';

const req = { protocol: 'tftp' as const };
const data = patternBytes(100_000, 5);

async function fixture(t: { after(fn: () => void): void }) {
  const fx = new GitFixture();
  t.after(() => fx.cleanup());
  const first = await fx.init({
    'boot/ipxe/boot.ipxe': '#!ipxe\nchain menu.ipxe\n',
    'boot/blob.bin': data,
    'README.md': 'top',
    'boot/empty': '',
  });
  return { fx, first };
}

test('size, etag (blob oid), mtime, full and ranged reads, subdir and mount', async (t) => {
  const { fx, first } = await fixture(t);
  const sink = logSink();
  const { server, events } = await startSources(
    t,
    [sourceGit({ repo: fx.bare, subdir: 'boot', mount: '/scripts', cacheDir: fx.cache, refreshSeconds: 0 })],
    sink.logger,
  );
  const f = await server.files.resolve('/scripts/blob.bin', req);
  assert.ok(f);
  assert.equal(f.size, 100_000);
  assert.equal(f.source, 'source-git');
  assert.equal(f.etag, `"${await git(fx.work, 'rev-parse', `${first}:boot/blob.bin`)}"`);
  assert.equal(f.mtime?.getTime(), Number(await git(fx.work, 'show', '-s', '--format=%ct', first)) * 1000);
  assert.deepEqual(await readAll(await f.open()), data);
  assert.deepEqual(await readAll(await f.open({ start: 12_345, end: 70_000 })), data.subarray(12_345, 70_001));
  assert.deepEqual(await readAll(await f.open({ start: 99_990, end: 200_000 })), data.subarray(99_990));
  assert.deepEqual(await readAll(await f.open({ start: 0, end: 0 })), data.subarray(0, 1));
  await assert.rejects(f.open({ start: 100_000, end: 100_001 }), /unsatisfiable/);
  assert.equal(
    (await readAll(await (await server.files.resolve('/scripts/ipxe/boot.ipxe', req))!.open())).toString(),
    '#!ipxe\nchain menu.ipxe\n',
  );
  assert.equal((await server.files.resolve('/scripts/empty', req))?.size, 0);
  assert.equal(await server.files.resolve('/scripts/README.md', req), undefined, 'outside the subdir');
  assert.equal(await server.files.resolve('/blob.bin', req), undefined, 'outside the mount');
  const commitEv = events.find((e) => e.type === 'git.commit');
  assert.equal(commitEv?.data['commit'], first);
  assert.ok(sink.lines.some((l) => l['event'] === 'git.commit' && l['commit'] === first));
});

test('missing files, folders, symlinks and traversal attempts', async (t) => {
  const fx = new GitFixture();
  t.after(() => fx.cleanup());
  await fx.init({ 'a/file.txt': 'x', 'secret.txt': 's' });
  await fx.commit({}, 'links', { 'a/link': '../secret.txt', 'a/abs': '/etc/passwd' });
  await fx.push();
  const { server } = await startSources(t, [
    sourceGit({ repo: fx.bare, subdir: 'a', cacheDir: fx.cache, refreshSeconds: 0 }),
  ]);
  assert.equal(await server.files.resolve('/nope', req), undefined);
  assert.equal(await server.files.resolve('/', req), undefined);
  assert.equal(await server.files.resolve('/link', req), undefined, 'symlinks are not served');
  assert.equal(await server.files.resolve('/abs', req), undefined);
  assert.equal(await server.files.resolve('/../secret.txt', req), undefined);
  assert.equal(await server.files.resolve('/%2e%2e/secret.txt', req), undefined);
  assert.equal(await server.files.hooks.resolve.promise({ path: '/../secret.txt', protocol: 'http' }), undefined);
  assert.equal(await server.files.hooks.resolve.promise({ path: '//secret.txt', protocol: 'http' }), undefined);
  assert.equal((await server.files.resolve('/file.txt', req))?.size, 1);
});

test('ref: a tag or a commit is served, not the branch tip; bad refs fail start-up clearly', async (t) => {
  const { fx, first } = await fixture(t);
  await git(fx.work, 'tag', 'v1');
  await fx.commit({ 'boot/ipxe/boot.ipxe': 'v2' }, 'second');
  await fx.push('main', 'v1');
  for (const ref of ['v1', first]) {
    const { server } = await startSources(t, [
      sourceGit({ name: `git-${ref}`, repo: fx.bare, ref, cacheDir: `${fx.cache}-${ref}`, refreshSeconds: 0 }),
    ]);
    assert.equal(
      (await readAll(await (await server.files.resolve('/boot/ipxe/boot.ipxe', req))!.open())).toString(),
      '#!ipxe\nchain menu.ipxe\n',
      ref,
    );
  }
  const { server: tip } = await startSources(t, [
    sourceGit({ repo: fx.bare, ref: 'main', cacheDir: `${fx.cache}-main`, refreshSeconds: 0 }),
  ]);
  assert.equal((await readAll(await (await tip.files.resolve('/boot/ipxe/boot.ipxe', req))!.open())).toString(), 'v2');
  const bad = createServer({
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'silent' },
    plugins: [sourceGit({ repo: fx.bare, ref: 'nope', cacheDir: `${fx.cache}-nope`, refreshSeconds: 0 })],
  });
  await assert.rejects(
    bad.start(),
    (e: Error & { cause?: { code?: string } }) =>
      e.cause?.code === 'PXE_ERR_FILE_SOURCE' && /ref "nope"/.test(e.message),
  );
  const missing = createServer({
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'silent' },
    plugins: [sourceGit({ repo: `${fx.dir}/no-such.git`, cacheDir: `${fx.cache}-x`, refreshSeconds: 0 })],
  });
  await assert.rejects(
    missing.start(),
    (e: Error & { cause?: { code?: string } }) =>
      e.cause?.code === 'PXE_ERR_FILE_SOURCE' && /cannot serve/.test(e.message),
  );
  const badSub = createServer({
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'silent' },
    plugins: [sourceGit({ repo: fx.bare, subdir: 'nope', cacheDir: `${fx.cache}-sub`, refreshSeconds: 0 })],
  });
  await assert.rejects(badSub.start(), /subdir "nope"/);
  assert.throws(
    () => createServer({ log: { level: 'silent' }, plugins: [sourceGit({ repo: fx.bare, ref: '--upload-pack=x' })] }),
    /ref/,
  );
  assert.throws(
    () => createServer({ log: { level: 'silent' }, plugins: [sourceGit({ repo: fx.bare, subdir: 'a/../..' })] }),
    /subdir/,
  );
});

test('refresh(): a pushed commit is served after refresh; remote gone: last good commit keeps serving', async (t) => {
  const { fx, first } = await fixture(t);
  const plugin = sourceGit({ repo: fx.bare, ref: 'main', cacheDir: fx.cache, refreshSeconds: 0 });
  const sink = logSink();
  const { server, events } = await startSources(t, [plugin], sink.logger);
  assert.equal(plugin.commit(), first);
  const second = await fx.commit({ 'boot/new.txt': 'new file', 'boot/ipxe/boot.ipxe': 'changed' }, 'second');
  assert.equal(await server.files.resolve('/boot/new.txt', req), undefined, 'not before the refresh');
  await fx.push();
  const [r1, r2] = await Promise.all([plugin.refresh(), plugin.refresh()]);
  assert.deepEqual(r1, { ok: true, commit: second, changed: true });
  assert.deepEqual(r2, r1, 'concurrent refreshes share one run');
  assert.equal(
    (await readAll(await (await server.files.resolve('/boot/new.txt', req))!.open())).toString(),
    'new file',
  );
  assert.equal(
    (await readAll(await (await server.files.resolve('/boot/ipxe/boot.ipxe', req))!.open())).toString(),
    'changed',
  );
  assert.deepEqual(
    events.filter((e) => e.type === 'git.commit').map((e) => e.data['commit']),
    [first, second],
  );
  assert.deepEqual(await plugin.refresh(), { ok: true, commit: second, changed: false });
  renameSync(fx.bare, `${fx.bare}.gone`);
  const r3 = await plugin.refresh();
  assert.equal(r3.ok, false);
  assert.equal(r3.commit, second);
  assert.ok(sink.lines.some((l) => l['event'] === 'git.refresh.failed'));
  assert.ok(events.some((e) => e.type === 'git.refresh.failed' && e.outcome === 'error'));
  assert.equal(
    (await readAll(await (await server.files.resolve('/boot/new.txt', req))!.open())).toString(),
    'new file',
    'still serving',
  );
  renameSync(`${fx.bare}.gone`, fx.bare);
});

test('restart with the remote gone: the existing mirror is served', async (t) => {
  const { fx, first } = await fixture(t);
  const { server } = await startSources(t, [sourceGit({ repo: fx.bare, cacheDir: fx.cache, refreshSeconds: 0 })]);
  await server.close();
  renameSync(fx.bare, `${fx.bare}.gone`);
  const sink = logSink();
  const plugin = sourceGit({ repo: fx.bare, cacheDir: fx.cache, refreshSeconds: 0 });
  const { server: again } = await startSources(t, [plugin], sink.logger);
  assert.equal(plugin.commit(), first);
  assert.equal((await again.files.resolve('/boot/blob.bin', req))?.size, 100_000);
  assert.ok(sink.lines.some((l) => l['event'] === 'git.stale'));
});

test('overlay: git first on a prefix, disk fills in what git lacks', async (t) => {
  const { fx } = await fixture(t);
  const { server } = await startSources(t, [
    sourceGit({ repo: fx.bare, subdir: 'boot', cacheDir: fx.cache, refreshSeconds: 0 }),
    sourceDisk({ root: fx.work }),
  ]);
  assert.equal((await server.files.resolve('/blob.bin', req))?.source, 'source-git');
  assert.equal((await server.files.resolve('/README.md', req))?.source, 'source-disk');
});
