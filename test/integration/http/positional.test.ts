/**
 * Bodies from sources with positional reads (`openReader`, as source-disk has): exact bytes for full and
 * ranged GETs across several read buffers, one close per opened reader, a file that shrank after lookup
 * cuts the connection, and the large read buffers stay within their budget under many stalled clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile, truncate, open as fsOpen } from 'node:fs/promises';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { FileHandle, FileReader } from '../../../core/files/types.js';
import { largeBufferBytesInUse } from '../../../core/http/send-body.js';
import { definePlugin } from '../../../core/plugin.js';
import { run } from '../../helpers/proc.js';
import { curl, hasCurl, startHttpFixture } from './fixture.js';

const skip = hasCurl ? false : 'curl is not installed';
const MiB = 1 << 20;

/**
 * Serves `/p/<name>` from `dir.root` (set once the fixture made its folder) with openReader only (open()
 * throws), counting readers opened and closed; `extra` bytes are announced but absent (a file that shrank).
 */
function positionalSource(dir: { root?: string }, counts: { opened: number; closed: number }, extra = 0) {
  return definePlugin({
    name: 'test-positional',
    apply(server) {
      server.files.hooks.resolve.tapPromise('test-positional', async (req) => {
        if (!req.path.startsWith('/p/') || !dir.root) return undefined;
        const full = join(dir.root, req.path.slice(3));
        const fh = await fsOpen(full, 'r').catch(() => undefined);
        if (!fh) return undefined;
        const size = (await fh.stat()).size + extra;
        await fh.close();
        const handle: FileHandle = {
          path: req.path,
          size,
          source: 'test-positional',
          open: async () => {
            throw new Error('the positional path must be used');
          },
          openReader: async (): Promise<FileReader> => {
            const f = await fsOpen(full, 'r');
            counts.opened++;
            return {
              read: async (buf, off, len, pos) => (await f.read(buf, off, len, pos)).bytesRead,
              close: async () => {
                counts.closed++;
                await f.close();
              },
            };
          },
        };
        return handle;
      });
    },
  });
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  for (let i = 0; i < ms / 20 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

test(
  'positional reads: full and ranged bodies byte-exact across read buffers, reader closed once each',
  { skip, timeout: 60_000 },
  async (t) => {
    const counts = { opened: 0, closed: 0 };
    const dir: { root?: string } = {};
    const f = await startHttpFixture({ plugins: [positionalSource(dir, counts)] });
    t.after(() => f.close());
    dir.root = f.root;

    const data = randomBytes(3 * MiB + 12_345); // three full 1 MiB reads and a partial one
    await writeFile(join(f.root, 'blob'), data);
    await writeFile(join(f.root, 'small'), 'tiny body');

    const full = await curl(f, '/p/blob');
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-length'], String(data.length));
    assert.ok(full.body.equals(data), 'full body byte-exact');

    const ranged = await curl(f, '/p/blob', ['-H', `Range: bytes=${MiB - 10}-${2 * MiB + 10}`]);
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(data.subarray(MiB - 10, 2 * MiB + 11)), 'range crossing read-buffer edges');

    const tail = await curl(f, '/p/blob', ['-H', 'Range: bytes=-100']);
    assert.ok(tail.body.equals(data.subarray(data.length - 100)), 'suffix range');

    assert.equal((await curl(f, '/p/small')).body.toString(), 'tiny body');
    const head = await curl(f, '/p/blob', ['-I']);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(data.length));

    await until(() => counts.closed === counts.opened, 2000);
    assert.equal(counts.opened, 4, 'HEAD opens no reader');
    assert.equal(counts.closed, 4);
    const gets = f.events.filter(
      (e) => e.type === 'http.get' && e.data['path'] === '/p/blob' && e.data['method'] === 'GET',
    );
    assert.deepEqual(
      gets.map((e) => [e.outcome, e.data['bytes']]),
      [
        ['ok', data.length],
        ['ok', 2 * MiB + 21 - MiB],
        ['ok', 100],
      ],
    );
    assert.equal(largeBufferBytesInUse(), 0);

    // inject(): the in-memory socket must not keep a reference to a buffer that is reused after its write callback.
    const injected = await f.server.inject.http({ path: '/p/blob' });
    assert.equal(injected.status, 200);
    assert.ok(injected.body.equals(data), 'injected body byte-exact');
  },
);

test(
  'positional reads: a file shorter than announced cuts the connection; keep-alive never poisoned',
  { skip, timeout: 60_000 },
  async (t) => {
    const counts = { opened: 0, closed: 0 };
    const dir: { root?: string } = {};
    const f = await startHttpFixture({ plugins: [positionalSource(dir, counts, 5000)] });
    t.after(() => f.close());
    dir.root = f.root;
    await writeFile(join(f.root, 'shrunk'), Buffer.alloc(2 * MiB, 1));
    await writeFile(join(f.root, 'ok.txt'), 'fine');
    const r = await curl(f, '/p/shrunk');
    assert.notEqual(r.code, 0, 'curl sees a transfer error');
    assert.ok(r.body.length <= 2 * MiB);
    await until(() => f.events.some((e) => e.type === 'http.error'), 2000);
    const err = f.events.find((e) => e.type === 'http.error');
    assert.match(String(err?.data['message']), /source yielded 2097152 of the 2102152 bytes/);
    const both = await run(
      'curl',
      [
        '-sS',
        '--http1.1',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}\n',
        `${f.base}/p/shrunk`,
        `${f.base}/ok.txt`,
      ],
      { timeoutMs: 20_000 },
    );
    assert.match(both.stdout, /200\n$/);
    await until(() => counts.closed === counts.opened, 2000);
    assert.equal(counts.closed, counts.opened);
  },
);

test(
  'positional reads: many stalled clients keep large buffers within budget; aborts release them',
  { timeout: 60_000 },
  async (t) => {
    const counts = { opened: 0, closed: 0 };
    const dir: { root?: string } = {};
    const f = await startHttpFixture({ plugins: [positionalSource(dir, counts)] });
    t.after(() => f.close());
    dir.root = f.root;
    await writeFile(join(f.root, 'big'), '');
    await truncate(join(f.root, 'big'), 16 * MiB);
    const reqs: ClientRequest[] = [];
    const responses: IncomingMessage[] = [];
    t.after(() => {
      for (const r of reqs) r.destroy();
    });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, largeBufferBytesInUse());
    }, 5);
    try {
      // 40 clients that take the headers and then stop reading: 40 x 2 x 1 MiB would be 80 MiB.
      for (let i = 0; i < 40; i++) {
        const req = request(`${f.base}/p/big`, { agent: false }, (res) => {
          res.pause();
          responses.push(res);
        });
        req.end();
        reqs.push(req);
      }
      await until(() => responses.length === 40 && counts.opened === 40, 20_000);
      assert.equal(responses.length, 40);
      await new Promise((r) => setTimeout(r, 200));
      peak = Math.max(peak, largeBufferBytesInUse());
      assert.ok(peak > 0, 'the first responses got large buffers');
      assert.ok(peak <= 64 * MiB, `large buffers ${peak} over the 64 MiB budget`);
    } finally {
      clearInterval(sampler);
    }
    for (const r of reqs) r.destroy();
    await until(() => counts.closed === 40 && largeBufferBytesInUse() === 0, 10_000);
    assert.equal(counts.closed, 40, 'every reader closed after the clients went away');
    assert.equal(largeBufferBytesInUse(), 0, 'budget released');
  },
);

test(
  'positional reads: readCached answers from the page cache without read(); -1 and short answers fall back or continue',
  { skip, timeout: 60_000 },
  async (t) => {
    const data = randomBytes(3 * MiB + 777);
    const calls = { cached: 0, missed: 0, read: 0 };
    const plugin = definePlugin({
      name: 'test-cached',
      apply(server) {
        server.files.hooks.resolve.tapPromise('test-cached', async (req) => {
          if (req.path !== '/c/blob') return undefined;
          return {
            path: req.path,
            size: data.length,
            source: 'test-cached',
            open: async () => {
              throw new Error('the positional path must be used');
            },
            openReader: async (): Promise<FileReader> => ({
              read: async (buf, off, len, pos) => {
                calls.read++;
                return data.copy(buf, off, pos, Math.min(pos + len, data.length));
              },
              // The second MiB is "not cached" (-1); other reads come back short (64 KiB), as RWF_NOWAIT may.
              readCached: (buf, off, len, pos) => {
                if (pos >= MiB && pos < 2 * MiB) {
                  calls.missed++;
                  return -1;
                }
                calls.cached++;
                return data.copy(buf, off, pos, Math.min(pos + Math.min(len, 64 << 10), data.length));
              },
              close: async () => undefined,
            }),
          };
        });
      },
    });
    const f = await startHttpFixture({ plugins: [plugin] });
    t.after(() => f.close());
    const full = await f.server.inject.http({ path: '/c/blob' });
    assert.equal(full.status, 200);
    assert.ok(full.body.equals(data), 'byte-exact from cached, short and fallback reads');
    assert.ok(calls.cached > 0, 'page-cache reads used');
    assert.ok(calls.read > 0 && calls.read === calls.missed, 'read() only where readCached said -1');
  },
);
