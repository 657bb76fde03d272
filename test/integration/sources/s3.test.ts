/** source-s3 against a real s3rver on 127.0.0.1 (started and stopped by this test). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sourceS3 from '../../../plugins/source-s3/index.js';
import sourceDisk from '../../../plugins/source-disk/index.js';
import { S3rver, S3RVER_KEYS } from './s3rver.js';
import { logSink, patternBytes, readAll, startSources, within } from './helpers.js';
import { waitFor } from '../../helpers/proc.js';

const s3 = new S3rver();
const small = patternBytes(70_000, 7);
const req = { protocol: 'http' as const };

before(async () => {
  await s3.start();
  await s3.put('efi/ipxe.efi', small);
  await s3.put('efi/grub.cfg', 'set timeout=5\n');
  await s3.put('efi/sub dir/a&b+c.txt', 'odd name');
  await s3.put('efi/empty.bin', '');
  await s3.put('outside.txt', 'not under the prefix');
  await s3.put('big/20m.bin', patternBytes(20 << 20, 3));
});
after(() => s3.cleanup());

const opts = () => ({ bucket: 'boot', endpoint: s3.endpoint, ...S3RVER_KEYS, mount: '/s3', prefix: 'efi' });

test('size, etag, mtime, full and ranged reads, odd names, empty object', async (t) => {
  const { server } = await startSources(t, [sourceS3(opts())]);
  const f = await server.files.resolve('/s3/ipxe.efi', req);
  assert.ok(f);
  assert.equal(f.size, 70_000);
  assert.equal(f.source, 'source-s3');
  assert.match(f.etag ?? '', /^"[0-9a-f]{32}"$/);
  assert.ok(f.mtime instanceof Date && !Number.isNaN(f.mtime.getTime()));
  assert.deepEqual(await readAll(await f.open()), small);
  assert.deepEqual(await readAll(await f.open({ start: 1000, end: 1999 })), small.subarray(1000, 2000));
  assert.deepEqual(await readAll(await f.open({ start: 69_000, end: 99_999 })), small.subarray(69_000), 'end clamped');
  await assert.rejects(f.open({ start: 70_000, end: 70_000 }), /unsatisfiable/);
  assert.equal(
    (await readAll(await (await server.files.resolve('/s3/sub dir/a&b+c.txt', req))!.open())).toString(),
    'odd name',
  );
  const e = await server.files.resolve('/s3/empty.bin', req);
  assert.equal(e?.size, 0);
  assert.equal((await readAll(await e!.open())).length, 0);
});

test('missing objects, the prefix and traversal attempts', async (t) => {
  const sink = logSink();
  const { server } = await startSources(t, [sourceS3(opts())], sink.logger);
  assert.equal(await server.files.resolve('/s3/nope.efi', req), undefined);
  assert.equal(await server.files.resolve('/s3/sub dir', req), undefined, 'a "folder" is not an object');
  assert.equal(await server.files.resolve('/ipxe.efi', req), undefined, 'outside the mount');
  assert.equal(await server.files.resolve('/s3/../outside.txt', req), undefined);
  assert.equal(await server.files.resolve('/s3/%2e%2e/outside.txt', req), undefined, 'encoded dots are a literal key');
  assert.equal(await server.files.resolve('/s3//outside.txt', req), undefined);
  assert.equal(await server.files.hooks.resolve.promise({ path: '/s3/../outside.txt', protocol: 'http' }), undefined);
  assert.equal(await server.files.hooks.resolve.promise({ path: '/s3//outside.txt', protocol: 'http' }), undefined);
  assert.ok(sink.lines.some((l) => l['event'] === 'files.denied'));
  assert.ok(!sink.lines.some((l) => l['event'] === 'files.error'), 'misses are not errors');
});

test('wrong credentials: a clean error and an event, no file (s3rver checks only the key id of v4 signatures)', async (t) => {
  const { server, events } = await startSources(t, [sourceS3({ ...opts(), accessKeyId: 'WRONG' })]);
  assert.equal(await server.files.resolve('/s3/ipxe.efi', req), undefined);
  const ev = events.find((e) => e.type === 'files.error');
  assert.ok(ev, 'files.error emitted');
  assert.equal(ev.data['code'], 'PXE_ERR_FILE_SOURCE');
  assert.match(String(ev.data['reason']), /HTTP 403/);
});

test('credentials from the shared credentials file (profile)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-aws-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'credentials'),
    '[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n\n[pxe]\n' +
      'aws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n',
  );
  const saved = process.env['AWS_SHARED_CREDENTIALS_FILE'];
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dir, 'credentials');
  t.after(() => {
    if (saved === undefined) delete process.env['AWS_SHARED_CREDENTIALS_FILE'];
    else process.env['AWS_SHARED_CREDENTIALS_FILE'] = saved;
  });
  const sink = logSink();
  const { server } = await startSources(
    t,
    [sourceS3({ bucket: 'boot', endpoint: s3.endpoint, prefix: 'efi/', profile: 'pxe' })],
    sink.logger,
  );
  assert.equal((await server.files.resolve('/grub.cfg', req))?.size, 14);
  assert.equal(sink.lines.find((l) => l['event'] === 'files.mount')?.['credentials'], 'profile');
});

test('store down: clean errors, other sources still serve; restarted: serves again', async (t) => {
  const diskRoot = mkdtempSync(join(tmpdir(), 'pxekit-s3-overlay-'));
  t.after(() => rmSync(diskRoot, { recursive: true, force: true }));
  writeFileSync(join(diskRoot, 'grub.cfg'), 'disk copy');
  writeFileSync(join(diskRoot, 'local.txt'), 'local');
  const { server, events } = await startSources(t, [sourceS3(opts()), sourceDisk({ root: diskRoot, mount: '/s3' })]);
  const f = await server.files.resolve('/s3/ipxe.efi', req);
  assert.equal(f?.source, 'source-s3', 'S3 is first on the prefix: it wins');
  assert.equal(
    (await server.files.resolve('/s3/local.txt', req))?.source,
    'source-disk',
    'falls through to the next source',
  );
  await s3.stop();
  // A file not looked up before: HEAD fails fast, the event says why, the next source answers.
  const g = await within(server.files.resolve('/s3/grub.cfg', req), 5_000, 'resolve with the store down');
  assert.equal(g?.source, 'source-disk');
  assert.equal((await readAll(await g!.open())).toString(), 'disk copy');
  assert.equal(await within(server.files.resolve('/s3/empty.bin', req), 5_000, 'resolve'), undefined);
  const err = events.find((e) => e.type === 'files.error');
  assert.ok(err);
  assert.equal(err.outcome, 'error');
  assert.match(String(err.data['reason']), /ECONNREFUSED|fetch failed/);
  // A handle resolved before the outage: open() rejects cleanly.
  await assert.rejects(
    within(f!.open(), 5_000, 'open with the store down'),
    (e: Error & { code?: string }) => e.code === 'PXE_ERR_FILE_SOURCE',
  );
  await s3.start();
  const again = await server.files.resolve('/s3/grub.cfg', req);
  assert.equal(again?.source, 'source-s3');
  assert.equal((await readAll(await again!.open())).toString(), 'set timeout=5\n');
});

test('store killed mid-transfer: the stream errors, it does not hang', async (t) => {
  const { server } = await startSources(t, [sourceS3({ ...opts(), prefix: 'big' })]);
  const f = await server.files.resolve('/s3/20m.bin', req);
  assert.equal(f?.size, 20 << 20);
  const stream = await f!.open();
  let got = 0;
  const drained = (async () => {
    for await (const c of stream) {
      got += (c as Buffer).length;
      if (got > 1 << 20 && s3.port) await new Promise((r) => setTimeout(r, 5)); // slow reader: the kill lands mid-body
    }
  })();
  await waitFor(() => got > 1 << 20, 10_000, 'first MiB');
  await s3.stop();
  await assert.rejects(within(drained, 15_000, 'stream after the kill'));
  assert.ok(got < 20 << 20, `read ${got} bytes`);
  await s3.start();
});

test('the request deadline covers the answer, not the body: a slow reader of a big object is not cut', async (t) => {
  const { server } = await startSources(t, [sourceS3({ ...opts(), prefix: 'big', timeoutMs: 300 })]);
  const f = await server.files.resolve('/s3/20m.bin', req);
  const body = await f!.open();
  const parts: Buffer[] = [];
  let waited = false;
  for await (const c of body) {
    parts.push(c as Buffer);
    if (!waited) {
      waited = true;
      // Far past timeoutMs with most of the body still at the store (the reader is paused, so not idle).
      await new Promise((r) => setTimeout(r, 1_500));
    }
  }
  assert.ok(Buffer.concat(parts).equals(patternBytes(20 << 20, 3)));
});

test('on-disk cache: filled once by ETag, served from the cache file, bounded, never partial', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-s3cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, `${'0'.repeat(64)}.tmp-abc`), 'leftover of a crash');
  await s3.put('c/one.bin', patternBytes(40_000, 1));
  await s3.put('c/two.bin', patternBytes(40_000, 2));
  await s3.put('c/three.bin', patternBytes(40_000, 3));
  const { server } = await startSources(t, [sourceS3({ ...opts(), prefix: 'c', cache: { dir, maxBytes: 100_000 } })]);
  assert.deepEqual(readdirSync(dir), [], 'temp leftovers removed at start');
  const cached = () => readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n));
  const one = await server.files.resolve('/s3/one.bin', req);
  assert.equal(one?.openReader, undefined, 'not cached yet: no reader');
  // A ranged read of a missing object follows the fill of the whole object; a reader that goes away
  // does not stop the fill.
  assert.deepEqual(
    await readAll(await one!.open({ start: 100, end: 199 })),
    patternBytes(40_000, 1).subarray(100, 200),
  );
  const aborted = await one!.open();
  aborted.destroy();
  await waitFor(() => cached().length === 1 && readdirSync(dir).length === 1, 5_000, 'cache file, no temp file');
  // Served from the cache file now (a reader with a descriptor): the store can be down.
  await s3.stop();
  const again = await server.files.resolve('/s3/one.bin', req);
  const reader = await again!.openReader!();
  assert.equal(typeof reader.fd, 'number');
  await reader.close();
  assert.deepEqual(await readAll(await again!.open({ start: 10, end: 19 })), patternBytes(40_000, 1).subarray(10, 20));
  assert.deepEqual(await readAll(await again!.open()), patternBytes(40_000, 1));
  await s3.start();
  for (const n of ['two', 'three']) {
    const h = await server.files.resolve(`/s3/${n}.bin`, req);
    assert.deepEqual(await readAll(await h!.open()), patternBytes(40_000, n === 'two' ? 2 : 3));
  }
  await waitFor(
    () => cached().length === 2 && !readdirSync(dir).some((n) => n.includes('.tmp-')),
    5_000,
    'LRU eviction to 2 files, no temp file left',
  );
});
