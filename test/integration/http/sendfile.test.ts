/**
 * Zero-copy bodies (sendfile(2) through the native addon, core/http/send-kernel.ts) from the real
 * source-disk plugin, checked with curl and raw sockets: exact bytes for full and ranged GETs, two
 * responses on one keep-alive connection, the tail of a corked body sent without the cork's 200 ms
 * delay, a client that hangs up mid-body (the server stays healthy and
 * closes the file), and a file that shrank after its size was announced (the connection is cut).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sourceDisk from 'pxekit/plugins/source-disk';
import { kernelSendCount } from '../../../core/http/send-kernel.js';
import { nativeBinding } from '../../../core/native/binding.js';
import { run } from '../../helpers/proc.js';
import { curl, hasCurl, startHttpFixture } from './fixture.js';

const skip = !hasCurl
  ? 'curl is not installed'
  : !nativeBinding().binding
    ? `no native addon: ${nativeBinding().reason}`
    : false;
const MiB = 1 << 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// The sendfile path corks the socket by default (core/native/send-file.ts): the uncork at the body's end
// is tested below. Nothing here may turn it off.
delete process.env.PXEKIT_SENDFILE_CORK;

async function withDisk(fn: (f: Awaited<ReturnType<typeof startHttpFixture>>, dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-sendfile-'));
  const f = await startHttpFixture({ plugins: [sourceDisk({ root: dir })] });
  try {
    await fn(f, dir);
  } finally {
    await f.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test(
  'sendfile: full and ranged bodies are byte-exact, and two go over one keep-alive connection',
  { skip },
  async () => {
    await withDisk(async (f, dir) => {
      const data = randomBytes(9 * MiB + 123);
      await writeFile(join(dir, 'kernel'), data);
      const before = kernelSendCount();
      const full = await curl(f, '/kernel');
      assert.equal(full.status, 200);
      assert.equal(sha(full.body), sha(data));
      const ranged = await curl(f, '/kernel', ['-r', '1000-5000999']);
      assert.equal(ranged.status, 206);
      assert.equal(sha(ranged.body), sha(data.subarray(1000, 5001000)));
      assert.equal(kernelSendCount() - before, 2, 'both bodies went by sendfile');
      // Keep-alive: curl reuses the connection for the second URL ("Re-using existing connection").
      const tmp = await mkdtemp(join(tmpdir(), 'pxekit-sendfile-out-'));
      try {
        const r = await run(
          'curl',
          [
            '-sS',
            '-v',
            '--http1.1',
            '-o',
            join(tmp, 'a'),
            f.base + '/kernel',
            '-o',
            join(tmp, 'b'),
            f.base + '/kernel',
          ],
          { timeoutMs: 20_000 },
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Re-using existing connection|Reusing existing connection/);
        const { readFile } = await import('node:fs/promises');
        assert.equal(sha(await readFile(join(tmp, 'a'))), sha(data));
        assert.equal(sha(await readFile(join(tmp, 'b'))), sha(data));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  },
);

test(
  'sendfile: the socket is uncorked at the end, so a body tail arrives without the 200 ms cork delay',
  { skip },
  async () => {
    await withDisk(async (f, dir) => {
      // 1 MiB + 7: the last segment is partial, and a socket left corked would hold it for 200 ms (the
      // kernel's cork timer), since nothing is written after the body on an idle keep-alive connection.
      const size = MiB + 7;
      await writeFile(join(dir, 'tail'), randomBytes(size));
      const before = kernelSendCount();
      const s = connect(f.port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
      const times: number[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          await new Promise<void>((resolve, reject) => {
            let buf = Buffer.alloc(0);
            const onData = (c: Buffer) => {
              buf = Buffer.concat([buf, c]);
              const end = buf.indexOf('\r\n\r\n');
              if (end < 0 || buf.length - end - 4 < size) return;
              assert.equal(buf.length - end - 4, size, 'exactly the body, nothing after it');
              assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 200 /);
              s.off('data', onData);
              resolve();
            };
            s.on('data', onData);
            s.once('error', reject);
            s.write('GET /tail HTTP/1.1\r\nHost: x\r\n\r\n');
          });
          times.push(performance.now() - t0);
        }
      } finally {
        s.destroy();
      }
      assert.equal(kernelSendCount() - before, 5, 'every body went by sendfile, over one connection');
      // The fastest of five: a loaded machine may delay one, a cork left on delays every one by ≥ 200 ms.
      assert.ok(Math.min(...times) < 150, `whole responses took ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    });
  },
);

test('sendfile: a client that hangs up mid-body leaves the server healthy', { skip }, async () => {
  await withDisk(async (f, dir) => {
    await writeFile(join(dir, 'big'), randomBytes(64 * MiB));
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = connect(f.port, '127.0.0.1', () => s.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'));
        let got = 0;
        s.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 2 * MiB) s.destroy();
        });
        s.on('close', () => resolve());
        s.on('error', reject);
      });
    }
    // Every aborted send ended: the file handles are closed and a normal request still works.
    const r = await curl(f, '/big', ['-r', '0-99']);
    assert.equal(r.status, 206);
    assert.equal(r.body.length, 100);
    const aborted = f.events.filter((e) => e.type === 'http.get' && e.data?.['aborted'] === true);
    assert.equal(aborted.length, 5, 'each hang-up is recorded as an aborted transfer');
  });
});

test('sendfile: a file that shrank after its size was announced cuts the connection', { skip }, async () => {
  await withDisk(async (f, dir) => {
    const path = join(dir, 'shrinking');
    await writeFile(path, randomBytes(64 * MiB));
    // Announce 64 MiB, then shrink the file before the body goes out: curl reports a partial transfer.
    const p = curl(f, '/shrinking', ['--limit-rate', '2M']);
    await new Promise((r) => setTimeout(r, 300));
    await truncate(path, 8 * MiB);
    const r = await p;
    assert.notEqual(r.code, 0, 'curl saw the connection cut');
    assert.ok(r.body.length < 64 * MiB, `got ${r.body.length} bytes`);
  });
});
