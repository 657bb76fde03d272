/**
 * DiskCache keeps cached files open between requests: hits share one descriptor, an evicted or removed file
 * is dropped (its descriptor closed), and a hit's use reaches the file's mtime at most once a minute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { DiskCache } from 'pxekit/kit';
import { waitFor } from '../../helpers/proc.js';

const OLD = new Date('2001-01-01T00:00:00Z');

async function cacheWith(t: { after(fn: () => void): void }, maxBytes: number, sizes: number[]) {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-cache-open-'));
  const keys = sizes.map((size, i) => {
    const key = DiskCache.key('obj', String(i));
    writeFileSync(join(dir, key), Buffer.alloc(size, i + 1));
    utimesSync(join(dir, key), OLD, new Date(OLD.getTime() + i * 1000)); // init orders by mtime
    return key;
  });
  const cache = new DiskCache(dir, maxBytes, pino({ level: 'silent' }));
  await cache.init();
  t.after(() => {
    void cache.close().finally(() => rmSync(dir, { recursive: true, force: true }));
  });
  return { dir, cache, keys };
}

/** What descriptor `fd` of this process points at now ('' when closed). */
function fdTarget(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

test('hits share one kept descriptor; it stays open after its readers close', async (t) => {
  const { dir, cache, keys } = await cacheWith(t, 1000, [100]);
  const r1 = (await cache.openFile(keys[0]!, 100))!;
  const r2 = (await cache.openFile(keys[0]!, 100))!;
  assert.equal(typeof r1.fd, 'number');
  assert.equal(r2.fd, r1.fd, 'the second hit reads the descriptor the first opened');
  const buf = Buffer.alloc(100);
  assert.equal(await r2.read(buf, 0, 100, 0), 100);
  assert.ok(buf.equals(Buffer.alloc(100, 1)));
  await r1.close();
  await r2.close();
  assert.equal(fdTarget(r1.fd!), join(dir, keys[0]!), 'kept open for the next request');
  const r3 = (await cache.openFile(keys[0]!, 100))!;
  assert.equal(r3.fd, r1.fd);
  await r3.close();
});

test('an evicted file is dropped: its kept descriptor is closed', async (t) => {
  const { dir, cache, keys } = await cacheWith(t, 150, [100]);
  const r = (await cache.openFile(keys[0]!, 100))!;
  const fd = r.fd!;
  await r.close();
  const key2 = DiskCache.key('obj', 'new');
  const fill = cache.fill(key2, 100, async () => Readable.from([Buffer.alloc(100, 9)]))!;
  await fill.written;
  await waitFor(() => cache.has(key2, 100) && !cache.has(keys[0]!, 100), 5_000, 'the new object evicted the old');
  // An unlinked file still held open reads as "<path> (deleted)".
  assert.ok(!fdTarget(fd).startsWith(join(dir, keys[0]!)), 'the evicted file is no longer held open');
});

test('a cached file removed behind the cache is a miss, and forgotten', async (t) => {
  const { dir, cache, keys } = await cacheWith(t, 1000, [100]);
  const r = (await cache.openFile(keys[0]!, 100))!;
  await r.close();
  unlinkSync(join(dir, keys[0]!));
  assert.equal(await cache.openFile(keys[0]!, 100), undefined);
  assert.equal(cache.has(keys[0]!, 100), false);
  assert.equal(cache.totalBytes, 0);
});

test("a hit's use reaches the file's mtime, at most once a minute", async (t) => {
  const { dir, cache, keys } = await cacheWith(t, 1000, [100]);
  const path = join(dir, keys[0]!);
  utimesSync(path, OLD, OLD);
  assert.ok(cache.lookup(keys[0]!, 100));
  await waitFor(() => statSync(path).mtimeMs > OLD.getTime(), 5_000, 'the first use is persisted');
  utimesSync(path, OLD, OLD);
  assert.ok(cache.lookup(keys[0]!, 100));
  await sleep(200);
  assert.equal(statSync(path).mtimeMs, OLD.getTime(), 'a second use within the minute is not written');
});
