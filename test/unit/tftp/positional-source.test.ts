import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { FileReader } from '../../../core/files/types.js';
import { PositionalBlockSource } from '../../../core/tftp/positional-source.js';

/** An in-memory FileReader that counts reads, records closes and can fail or answer late on demand. */
function memReader(data: Buffer, opts: { failAt?: number; manual?: boolean } = {}) {
  const pending: (() => void)[] = [];
  const r = {
    reads: 0,
    closed: 0,
    maxLength: 0,
    pending,
    reader: {
      read(buf, off, len, pos) {
        r.reads++;
        r.maxLength = Math.max(r.maxLength, len);
        const run = (): Promise<number> => {
          if (opts.failAt !== undefined && pos >= opts.failAt) return Promise.reject(new Error('EIO'));
          const n = Math.max(0, Math.min(len, data.length - pos));
          data.copy(buf, off, pos, pos + n);
          return Promise.resolve(n);
        };
        if (!opts.manual) return run();
        return new Promise<number>((resolve, reject) => pending.push(() => void run().then(resolve, reject)));
      },
      async close() {
        r.closed++;
      },
    } satisfies FileReader,
  };
  return r;
}

/** Pulls every block (bounded by `max` waits) like ReadTransfer does. */
async function drain(src: PositionalBlockSource, blksize: number, max = 10_000): Promise<Buffer[]> {
  const blocks: Buffer[] = [];
  for (let i = 0; i < max; i++) {
    const b = Buffer.alloc(blksize);
    let n = src.fill(b, 0, blksize);
    while (n === undefined) {
      if (src.error) throw src.error;
      await new Promise<void>((resolve) => src.onReady(resolve));
      if (src.error) throw src.error;
      n = src.fill(b, 0, blksize);
    }
    blocks.push(b.subarray(0, n));
    if (n < blksize) return blocks;
  }
  throw new Error('too many blocks');
}

test('blocks reassemble the file; the last block is short (empty on an exact multiple)', async () => {
  for (const [size, blk] of [
    [100_003, 1468],
    [512 * 64, 512],
    [0, 512],
    [5, 512],
  ] as const) {
    const data = randomBytes(size);
    const m = memReader(data);
    const blocks = await drain(new PositionalBlockSource(m.reader, size, 16 * 1024), blk);
    assert.ok(Buffer.concat(blocks).equals(data), `size ${size}`);
    assert.equal(blocks.length, Math.floor(size / blk) + 1, `size ${size}`);
  }
});

test('one reused buffer: reads are at most the chunk size (32 KiB minimum, 256 KiB maximum)', async () => {
  const data = randomBytes(1024 * 1024);
  const small = memReader(data);
  await drain(new PositionalBlockSource(small.reader, data.length, 1000), 1468);
  assert.ok(small.maxLength <= 32 * 1024);
  assert.ok(small.reads >= 32, `${small.reads} reads`);
  const big = memReader(data);
  await drain(new PositionalBlockSource(big.reader, data.length, 10 * 1024 * 1024), 65464);
  assert.ok(big.maxLength <= 256 * 1024);
});

test('never reads past the announced size (a grown file still matches tsize)', async () => {
  const data = randomBytes(50_000);
  const m = memReader(data);
  const blocks = await drain(new PositionalBlockSource(m.reader, 30_000, 8192), 1024);
  assert.ok(Buffer.concat(blocks).equals(data.subarray(0, 30_000)));
});

test('a file that shrank is a read error, not a short last block (nor a hang)', async () => {
  const data = randomBytes(10_000);
  const m = memReader(data);
  await assert.rejects(
    drain(new PositionalBlockSource(m.reader, 40_000, 8192), 1024),
    /came up short at byte 10000 of the 40000 announced/,
  );
});

test('a read error is reported through `error` and wakes the waiter', async () => {
  const data = randomBytes(200_000);
  const m = memReader(data, { failAt: 64 * 1024 });
  await assert.rejects(drain(new PositionalBlockSource(m.reader, data.length, 16 * 1024), 1468), /EIO/);
});

test('waits for a slow read, then continues; destroy closes the reader exactly once', async () => {
  const data = randomBytes(3000);
  const m = memReader(data, { manual: true });
  const src = new PositionalBlockSource(m.reader, data.length, 16 * 1024);
  const b = Buffer.alloc(1468);
  assert.equal(src.fill(b, 0, 1468), undefined, 'nothing read yet');
  const ready = new Promise<void>((resolve) => src.onReady(resolve));
  assert.equal(m.pending.length, 1);
  m.pending.shift()!();
  await ready;
  assert.equal(src.fill(b, 0, 1468), 1468);
  assert.ok(b.equals(data.subarray(0, 1468)));
  src.destroy();
  src.destroy();
  assert.equal(m.closed, 1);
});

/** memReader plus readCached: serves from "memory" unless `cold(pos)`; `short` caps each cached read. */
function cachedReader(data: Buffer, opts: { cold?: (pos: number) => boolean; short?: number } = {}) {
  const m = memReader(data);
  const stats = { cachedReads: 0, misses: 0 };
  const reader: FileReader = {
    ...m.reader,
    readCached(buf, off, len, pos) {
      if (opts.cold?.(pos)) {
        stats.misses++;
        return -1;
      }
      stats.cachedReads++;
      const n = Math.max(0, Math.min(len, opts.short ?? len, data.length - pos));
      data.copy(buf, off, pos, pos + n);
      return n;
    },
  };
  return { m, reader, stats };
}

test('readCached: page-cache hits are read synchronously (no async read at all), bytes identical', async () => {
  for (const size of [0, 1, 1468, 1468 * 100, 1024 * 1024 + 3]) {
    const data = randomBytes(size);
    const c = cachedReader(data);
    const blocks = await drain(new PositionalBlockSource(c.reader, size, 64 * 1024), 1468);
    assert.ok(Buffer.concat(blocks).equals(data), `size ${size}`);
    assert.equal(c.m.reads, 0, 'no thread-pool read');
    assert.equal(c.stats.cachedReads > 0, size > 0, 'an empty file needs no read at all');
  }
});

test('readCached: misses fall back to the async read, short cached reads are continued, bytes identical', async () => {
  const data = randomBytes(700_001);
  const coldRanges = (pos: number) => Math.floor(pos / 100_000) % 2 === 1; // every other 100 kB is "on disk"
  const c = cachedReader(data, { cold: coldRanges, short: 5000 });
  const blocks = await drain(new PositionalBlockSource(c.reader, data.length, 64 * 1024), 1468);
  assert.ok(Buffer.concat(blocks).equals(data));
  assert.ok(c.stats.misses > 0 && c.m.reads > 0, 'cold ranges went through read()');
  assert.ok(c.stats.cachedReads > 0, 'warm ranges did not');
});
