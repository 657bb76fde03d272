/**
 * openFileReader (pxekit/kit): the FileReader disk sources hand out — positional reads, the descriptor for
 * sendfile, and page-cache reads through the native addon when it was built (source-disk gets them from
 * here, not from core/native).
 */
import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openFileReader } from 'pxekit/kit';
import { nativeUdp } from '../../../core/native/udp-socket.js';

test('openFileReader: positional reads, fd, readCached from the page cache when the addon is built', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-file-reader-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 13) & 0xff));
  const path = join(dir, 'f.bin');
  await writeFile(path, data); // just written: in the page cache

  const reader = await openFileReader(path);
  const buf = Buffer.alloc(600);
  assert.equal(await reader.read(buf, 100, 500, 9_700), 300, 'short at the end');
  assert.ok(buf.subarray(100, 400).equals(data.subarray(9_700)));
  assert.equal(await reader.read(buf, 0, 10, 10_000), 0, 'past the end');
  assert.equal(typeof reader.fd, 'number');
  assert.equal(fstatSync(reader.fd!).size, data.length, 'fd is the opened file');

  if (nativeUdp().available) {
    assert.ok(reader.readCached, 'the addon is built: page-cache reads are offered');
    const n = reader.readCached(buf, 0, 512, 1024);
    // -1 is allowed by the contract (a file system without RWF_NOWAIT), otherwise the bytes.
    if (n !== -1) {
      assert.equal(n, 512);
      assert.ok(buf.subarray(0, 512).equals(data.subarray(1024, 1536)));
    }
  } else {
    assert.equal(reader.readCached, undefined, 'no addon: async reads only');
  }
  await reader.close();
  await assert.rejects(openFileReader(join(dir, 'missing')), { code: 'ENOENT' });
});
