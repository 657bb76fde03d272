/** The HTTP listener against real curl on 127.0.0.1: the behaviours UEFI HTTP boot and iPXE rely on. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { curl, hasCurl, startHttpFixture, type HttpFixture } from './fixture.js';

const skip = hasCurl ? false : 'curl is not installed';
let f: HttpFixture;
const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
const mtime = new Date('2026-03-04T05:06:07Z');

before(async () => {
  if (skip) return;
  f = await startHttpFixture({ etag: true });
  await mkdir(join(f.root, 'ipxe'));
  await writeFile(join(f.root, 'ipxe', 'snp.efi'), content);
  await utimes(join(f.root, 'ipxe', 'snp.efi'), mtime, mtime);
  await writeFile(join(f.root, 'boot.ipxe'), '#!ipxe\necho hello\n');
  await writeFile(join(f.root, 'secret'), 'outside');
});
after(async () => {
  if (f) await f.close();
});

test('GET: 200 with Content-Length, type, validators, keep-alive', { skip }, async () => {
  const r = await curl(f, '/ipxe/snp.efi');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, content);
  assert.equal(r.headers['content-length'], '1000');
  assert.equal(r.headers['content-type'], 'application/octet-stream');
  assert.equal(r.headers['accept-ranges'], 'bytes');
  assert.equal(r.headers['last-modified'], mtime.toUTCString());
  assert.match(r.headers['etag'] ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.equal(r.headers['connection'], 'keep-alive');
  const ipxe = await curl(f, '/boot.ipxe');
  assert.equal(ipxe.headers['content-type'], 'text/plain; charset=utf-8');
});

test('HEAD: the same headers, no body', { skip }, async () => {
  const r = await curl(f, '/ipxe/snp.efi', ['-I']);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], '1000');
  // With -I curl writes the header block as its output: nothing may follow the blank line.
  assert.match(r.body.toString('latin1'), /^HTTP\/1\.1 200[^]*\r\n\r\n$/);
  const ranged = await curl(f, '/ipxe/snp.efi', ['-I', '-H', 'Range: bytes=0-9']);
  assert.equal(ranged.status, 200, 'Range is defined for GET only');
});

test('Range: 206 single, suffix, open-ended; 416 unsatisfiable; several ranges → 200 full', { skip }, async () => {
  const a = await curl(f, '/ipxe/snp.efi', ['-r', '10-19']);
  assert.equal(a.status, 206);
  assert.equal(a.headers['content-range'], 'bytes 10-19/1000');
  assert.equal(a.headers['content-length'], '10');
  assert.deepEqual(a.body, content.subarray(10, 20));
  const suffix = await curl(f, '/ipxe/snp.efi', ['-r', '-100']);
  assert.equal(suffix.status, 206);
  assert.equal(suffix.headers['content-range'], 'bytes 900-999/1000');
  assert.deepEqual(suffix.body, content.subarray(900));
  const open = await curl(f, '/ipxe/snp.efi', ['-r', '995-']);
  assert.deepEqual(open.body, content.subarray(995));
  const bad = await curl(f, '/ipxe/snp.efi', ['-r', '5000-6000']);
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], 'bytes */1000');
  const multi = await curl(f, '/ipxe/snp.efi', ['-r', '0-9,50-59']);
  assert.equal(multi.status, 200);
  assert.deepEqual(multi.body, content);
  const garbage = await curl(f, '/ipxe/snp.efi', ['-H', 'Range: bytes=zz']);
  assert.equal(garbage.status, 200);
});

test('conditional GET: 304 via If-None-Match and If-Modified-Since; changed → 200', { skip }, async () => {
  const first = await curl(f, '/ipxe/snp.efi');
  const etag = first.headers['etag']!;
  const inm = await curl(f, '/ipxe/snp.efi', ['-H', `If-None-Match: ${etag}`]);
  assert.equal(inm.status, 304);
  assert.equal(inm.body.length, 0);
  assert.equal(inm.headers['etag'], etag);
  const ims = await curl(f, '/ipxe/snp.efi', ['-H', `If-Modified-Since: ${mtime.toUTCString()}`]);
  assert.equal(ims.status, 304);
  const older = await curl(f, '/ipxe/snp.efi', [
    '-H',
    `If-Modified-Since: ${new Date(mtime.getTime() - 60_000).toUTCString()}`,
  ]);
  assert.equal(older.status, 200);
  const other = await curl(f, '/ipxe/snp.efi', ['-H', 'If-None-Match: "something-else"']);
  assert.equal(other.status, 200);
});

test('If-Range: current ETag → 206, stale ETag or date → 200 full', { skip }, async () => {
  const etag = (await curl(f, '/ipxe/snp.efi', ['-I'])).headers['etag']!;
  const fresh = await curl(f, '/ipxe/snp.efi', ['-r', '0-9', '-H', `If-Range: ${etag}`]);
  assert.equal(fresh.status, 206);
  const stale = await curl(f, '/ipxe/snp.efi', ['-r', '0-9', '-H', 'If-Range: "stale-etag"']);
  assert.equal(stale.status, 200);
  assert.deepEqual(stale.body, content);
  const staleDate = await curl(f, '/ipxe/snp.efi', [
    '-r',
    '0-9',
    '-H',
    `If-Range: ${new Date(mtime.getTime() - 1000).toUTCString()}`,
  ]);
  assert.equal(staleDate.status, 200);
});

test('keep-alive: two URLs reuse one connection', { skip }, async () => {
  const r = await curl(f, '/boot.ipxe', ['-v', '-o', '/dev/null', '-w', ' %{num_connects}', `${f.base}/ipxe/snp.efi`]);
  // -w runs per URL: the second transfer made no new connection.
  assert.deepEqual(
    r.stdout
      .trim()
      .split(/\s+/)
      .slice(-2)
      .map((x) => x.slice(-1)),
    ['1', '0'],
  );
  assert.match(r.stderr, /Re-using existing connection/);
});

test(
  '`//` is normalised (200, never 3xx); `..`, %2e%2e and %2f traversal refused; bad encoding 400',
  { skip },
  async () => {
    for (const p of ['//ipxe//snp.efi', '/ipxe/./snp.efi', '/%69pxe/snp.efi']) {
      const r = await curl(f, p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['location'], undefined);
    }
    for (const p of [
      '/../secret',
      '/ipxe/../secret',
      '/%2e%2e/secret',
      '/ipxe/%2E%2E/secret',
      '/ipxe/..%2fsecret',
      '/ipxe%2f..%2fsecret',
      '/ipxe/..%5csecret',
    ]) {
      const r = await curl(f, p);
      assert.ok(r.status === 400 || r.status === 404, `${p} → ${r.status}`);
      assert.notEqual(r.body.toString(), 'outside');
    }
    for (const p of ['/%', '/ipxe/%zz', '/a%c3', '/a%00b']) {
      assert.equal((await curl(f, p)).status, 400, p);
    }
    assert.equal((await curl(f, '/nope.efi')).status, 404);
    assert.equal((await curl(f, '/ipxe')).status, 404, 'a directory is never served (no listings)');
  },
);

test('only GET and HEAD: POST → 405 with Allow', { skip }, async () => {
  const r = await curl(f, '/boot.ipxe', ['-X', 'POST', '-d', 'x=1']);
  assert.equal(r.status, 405);
  assert.equal(r.headers['allow'], 'GET, HEAD');
  assert.equal((await curl(f, '/boot.ipxe', ['-X', 'DELETE'])).status, 405);
});
