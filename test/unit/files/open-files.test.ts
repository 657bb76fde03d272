/**
 * OpenFileCache (pxekit/kit): open files kept between requests, re-checked by a stat on every use, so a
 * file replaced on disk is served new from the next request on and a reader keeps the one version it
 * opened; bounded in count and idle time; everything closed by close().
 */
import assert from 'node:assert/strict';
import { fstatSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { OpenFileCache, type OpenFile } from 'pxekit/kit';
import type { FileReader } from 'pxekit';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-open-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readWhole(r: FileReader, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const n = await r.read(buf, at, Math.min(7, size - at), at); // small reads: many chances to see a swap
    if (n <= 0) break;
    at += n;
  }
  return buf.subarray(0, at);
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

for (const syncStat of [true, false]) {
  const keptName =
    'kept and shared while unchanged; a file replaced by rename is new on the next get, a reader keeps its version ' +
    `(syncStat ${syncStat})`;
  test(keptName, async (t) => {
    const dir = await tmp(t);
    const p = join(dir, 'f.bin');
    writeFileSync(p, 'version one');
    const cache = new OpenFileCache({ max: 8, idleMs: 60_000, syncStat });
    t.after(() => cache.close());
    assert.equal(await cache.get('f'), undefined, 'nothing kept yet');
    const a = (await cache.open('f', p, p))!;
    assert.equal(a.stat.size, 11);
    const b = (await cache.get('f'))!;
    assert.equal(b, a, 'the same open file for the next request');
    const r1 = await a.reader();
    const r2 = await b.reader();
    assert.equal(r1.fd, r2.fd, 'readers share one descriptor');

    // Replaced the atomic way while r1 is being read: r1 reads the old version whole.
    writeFileSync(join(dir, 'new.tmp'), 'VERSION TWO, longer');
    renameSync(join(dir, 'new.tmp'), p);
    assert.equal((await readWhole(r1, a.stat.size)).toString(), 'version one');
    assert.equal(await cache.get('f'), undefined, 'the next request sees the change');
    assert.equal(cache.size, 0);
    const c = (await cache.open('f', p, p))!;
    assert.equal(c.stat.size, 19);
    const r3 = await c.reader();
    assert.equal((await readWhole(r3, c.stat.size)).toString(), 'VERSION TWO, longer');
    assert.notEqual(r3.fd, r1.fd);

    // The dropped entry's descriptor closes with its last reader.
    assert.ok(isOpen(r1.fd!));
    await r1.close();
    await r1.close(); // a second close is harmless
    assert.ok(isOpen(r2.fd!), 'still being read by r2');
    await r2.close();
    await sleep(20); // fs.close runs on the thread pool
    assert.ok(!isOpen(r2.fd!) || r2.fd === r3.fd, 'closed after the last reader');
    await r3.close();
  });
}

test('edited in place (size or mtime) or removed: dropped', async (t) => {
  const dir = await tmp(t);
  const p = join(dir, 'f.bin');
  writeFileSync(p, 'abc');
  const cache = new OpenFileCache({ max: 8, idleMs: 60_000, syncStat: true });
  t.after(() => cache.close());
  await cache.open('f', p, p);
  writeFileSync(p, 'abcd');
  assert.equal(await cache.get('f'), undefined, 'size changed');
  await cache.open('f', p, p);
  rmSync(p);
  assert.equal(await cache.get('f'), undefined, 'removed');
  mkdirSync(p);
  assert.equal(await cache.open('f', p, p), undefined, 'a directory is not a file');
});

test('the check path is stat-ed through symlinks: a link retargeted on the way drops the entry', async (t) => {
  const dir = await tmp(t);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'a', 'f'), 'in a');
  writeFileSync(join(dir, 'b', 'f'), 'in b');
  symlinkSync('a', join(dir, 'link'));
  const cache = new OpenFileCache({ max: 8, idleMs: 60_000, syncStat: true });
  t.after(() => cache.close());
  await cache.open('link/f', join(dir, 'a', 'f'), join(dir, 'link', 'f'));
  assert.ok(await cache.get('link/f'));
  rmSync(join(dir, 'link'));
  symlinkSync('b', join(dir, 'link'));
  assert.equal(await cache.get('link/f'), undefined, 'another file behind the same path: looked up again');
});

test('bounded: the least recently used unused file is closed first; files being read stay open', async (t) => {
  const dir = await tmp(t);
  const paths = ['a', 'b', 'c', 'd'].map((n) => {
    const p = join(dir, n);
    writeFileSync(p, n);
    return p;
  });
  const cache = new OpenFileCache({ max: 2, idleMs: 60_000, syncStat: true });
  t.after(() => cache.close());
  const a = (await cache.open('a', paths[0]!, paths[0]!))!;
  const ra = await a.reader(); // a is being read
  const b = (await cache.open('b', paths[1]!, paths[1]!))!;
  const rb = await b.reader();
  const bFd = rb.fd!;
  await rb.close();
  await cache.open('c', paths[2]!, paths[2]!);
  assert.equal(cache.size, 2, 'b (unused) made room; a is read and stays');
  assert.ok(await cache.get('a'));
  assert.equal(await cache.get('b'), undefined);
  await sleep(20);
  assert.ok(isOpen(ra.fd!));
  assert.ok(!isOpen(bFd) || bFd === ra.fd, 'b closed');
  // A handle whose entry was closed meanwhile opens the file again, if it is still the same file.
  const again = await b.reader();
  assert.equal((await readWhole(again, 1)).toString(), 'b');
  await again.close();
  writeFileSync(paths[1]!, 'changed');
  await assert.rejects(b.reader(), /changed on disk/);
  await ra.close();
});

test('idle files are closed; close() closes the rest and later opens are not kept', async (t) => {
  const dir = await tmp(t);
  const p = join(dir, 'f');
  writeFileSync(p, 'x');
  const cache = new OpenFileCache({ max: 8, idleMs: 60, syncStat: true });
  t.after(() => cache.close());
  await cache.open('f', p, p);
  assert.equal(cache.size, 1);
  for (let i = 0; i < 50 && cache.size > 0; i++) await sleep(20);
  assert.equal(cache.size, 0, 'closed after idleMs unused');
  const f: OpenFile = (await cache.open('f', p, p))!;
  const r = await f.reader();
  await cache.close();
  assert.equal(cache.size, 0);
  assert.equal((await readWhole(r, 1)).toString(), 'x', 'a reader in flight finishes');
  await r.close();
  await cache.open('f', p, p);
  assert.equal(cache.size, 0, 'nothing kept after close()');
});
