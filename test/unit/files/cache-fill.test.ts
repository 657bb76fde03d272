/**
 * DiskCache fills through cachedBody: concurrent first reads share one fetch, readers follow the growing
 * file, a failed or short fetch fails its readers (never a short success) and does not poison the next
 * request, a stalled store fails the fill, far ranges and too-big objects go to the store directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { cachedBody, DiskCache } from 'pxekit/kit';
import type { ByteRange } from 'pxekit';
import { waitFor } from '../../helpers/proc.js';

const KiB = 1024;
const data = Buffer.from(Array.from({ length: 3 * 1024 * KiB }, (_, i) => (i * 7 + (i >> 11)) & 0xff));

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A store: the object in 64 KiB chunks with a pause between them; `failAfter` bytes then an error. */
function store(opts: { failAfter?: number; short?: boolean; stallAfter?: number; failStart?: number } = {}) {
  const calls: Array<ByteRange | undefined> = [];
  let startFailures = opts.failStart ?? 0;
  const fetch = async (range?: ByteRange): Promise<Readable> => {
    calls.push(range);
    if (startFailures-- > 0) throw new Error('HTTP 503 from the store');
    const from = range?.start ?? 0;
    const to = range ? range.end + 1 : opts.short ? data.length - 10 : data.length;
    return Readable.from(
      (async function* () {
        for (let p = from; p < to; p += 64 * KiB) {
          if (opts.failAfter !== undefined && p >= opts.failAfter) throw new Error('connection reset by the store');
          if (opts.stallAfter !== undefined && p >= opts.stallAfter) await sleep(60_000, undefined, { ref: false });
          await sleep(2);
          yield data.subarray(p, Math.min(to, p + 64 * KiB));
        }
      })(),
      { objectMode: false },
    );
  };
  return { fetch, calls };
}

async function withCache(t: { after(fn: () => void): void }, maxBytes = 10 * 1024 * KiB) {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-fill-'));
  const cache = new DiskCache(dir, maxBytes, pino({ level: 'silent' }));
  await cache.init();
  t.after(() => {
    void cache.close().finally(() => rmSync(dir, { recursive: true, force: true }));
  });
  return { dir, cache, files: () => readdirSync(dir) };
}

test('20 concurrent first reads share one fetch; then the cache file is read (with a descriptor)', async (t) => {
  const { cache, files } = await withCache(t);
  const s = store();
  const key = DiskCache.key('obj', '1');
  const body = () => cachedBody({ cache, key, size: data.length, fetch: s.fetch });
  const got = await Promise.all(Array.from({ length: 20 }, () => body().open().then(readAll)));
  for (const g of got) assert.ok(g.equals(data));
  assert.equal(s.calls.length, 1, 'one fetch');
  assert.ok(cache.has(key, data.length), 'in place before its readers got the last byte');
  await waitFor(() => cache.filling === 0, 5_000, 'fill landed');
  assert.deepEqual(files(), [key]);
  const cached = body();
  assert.ok(cached.openReader, 'cached: a reader is offered');
  const reader = await cached.openReader();
  assert.equal(typeof reader.fd, 'number');
  const buf = Buffer.alloc(100);
  assert.equal(await reader.read(buf, 0, 100, 5000), 100);
  assert.ok(buf.equals(data.subarray(5000, 5100)));
  await reader.close();
  assert.ok((await readAll(await cached.open({ start: 7, end: 70_000 }))).equals(data.subarray(7, 70_001)));
  assert.equal(s.calls.length, 1, 'still one fetch');
});

test('a fetch failing mid-body fails every reader, leaves nothing, and the next request fetches again', async (t) => {
  const { cache, files } = await withCache(t);
  const key = DiskCache.key('obj', 'mid');
  const bad = store({ failAfter: 1024 * KiB });
  const readers = Array.from({ length: 5 }, () =>
    cachedBody({ cache, key, size: data.length, fetch: bad.fetch }).open().then(readAll),
  );
  for (const r of await Promise.allSettled(readers)) {
    assert.equal(r.status, 'rejected');
    assert.match(String(r.reason), /connection reset/);
  }
  assert.equal(bad.calls.length, 1);
  await waitFor(() => cache.filling === 0 && files().length === 0, 5_000, 'temp file removed');
  const good = store();
  const ok = await readAll(await cachedBody({ cache, key, size: data.length, fetch: good.fetch }).open());
  assert.ok(ok.equals(data));
  assert.equal(good.calls.length, 1);
});

test('a store that refuses at the start: open rejects (a clean 500), and is not remembered', async (t) => {
  const { cache } = await withCache(t);
  const key = DiskCache.key('obj', 'start');
  const s = store({ failStart: 1 });
  const body = () => cachedBody({ cache, key, size: data.length, fetch: s.fetch });
  await assert.rejects(body().open(), /HTTP 503/);
  await waitFor(() => cache.filling === 0, 5_000, 'failed fill dropped');
  assert.ok((await readAll(await body().open())).equals(data));
  assert.equal(s.calls.length, 2);
});

test('a store sending fewer bytes than announced, or going silent, fails the fill', async (t) => {
  const { cache, files } = await withCache(t);
  const short = store({ short: true });
  await assert.rejects(
    cachedBody({ cache, key: DiskCache.key('short'), size: data.length, fetch: short.fetch })
      .open()
      .then(readAll),
    /sent .* of the/,
  );
  const stalled = store({ stallAfter: 256 * KiB });
  const started = Date.now();
  await assert.rejects(
    cachedBody({ cache, key: DiskCache.key('stall'), size: data.length, fetch: stalled.fetch, idleMs: 200 })
      .open()
      .then(readAll),
    /no data for 200 ms/,
  );
  assert.ok(Date.now() - started < 5_000);
  await waitFor(() => cache.filling === 0 && files().length === 0, 5_000, 'nothing left');
});

test('a range far past the fill goes to the store; objects larger than the cache are never cached', async (t) => {
  const { cache, files } = await withCache(t, 1024 * KiB);
  const s = store();
  const size = data.length;
  const far = { start: size - 1000, end: size - 1 };
  // Larger than the cache: straight from the store, whole and ranged.
  const big = cachedBody({ cache, key: DiskCache.key('big'), size, fetch: s.fetch });
  assert.ok((await readAll(await big.open(far))).equals(data.subarray(size - 1000)));
  assert.ok((await readAll(await big.open())).equals(data));
  assert.deepEqual(s.calls, [far, undefined]);
  assert.deepEqual(files(), []);
  // Fits: the far range is fetched on its own while the fill runs.
  const { cache: roomy } = await withCache(t, 100 * 1024 * KiB);
  const s2 = store();
  const body = cachedBody({ cache: roomy, key: DiskCache.key('roomy'), size: 40 * 1024 * KiB, fetch: s2.fetch });
  const r = await body.open({ start: 30 * 1024 * KiB, end: 30 * 1024 * KiB + 9 });
  r.destroy();
  // The far range's own fetch, and the fill's (which opens its file first).
  await waitFor(() => s2.calls.length === 2, 5_000, 'two fetches');
  assert.deepEqual(
    new Set(s2.calls.map((c) => JSON.stringify(c))),
    new Set([undefined, { start: 30 * 1024 * KiB, end: 30 * 1024 * KiB + 9 }].map((c) => JSON.stringify(c))),
  );
});

test('close() cancels a fill under way and removes its file', async (t) => {
  const { cache, files } = await withCache(t);
  const s = store({ stallAfter: 128 * KiB });
  const r = cachedBody({ cache, key: DiskCache.key('closing'), size: data.length, fetch: s.fetch })
    .open()
    .then(readAll);
  r.catch(() => undefined); // awaited below, after close()
  await waitFor(() => files().length === 1, 5_000, 'temp file');
  await cache.close();
  await assert.rejects(r, /cancelled/);
  assert.deepEqual(files(), []);
});
