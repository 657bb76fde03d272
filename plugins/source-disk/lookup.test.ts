import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiskLookup } from './lookup.js';

test('concurrent lookups of one path share one realpath + stat; nothing is kept after they settle', async (t) => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pxekit-lookup-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'ipxe.efi'), Buffer.alloc(1000, 1));
  const lookup = new DiskLookup({ rootReal: root, caseInsensitive: false, followSymlinks: 'inside' });
  const realpath = fsp.realpath;
  let calls = 0;
  fsp.realpath = ((...args: Parameters<typeof realpath>) => {
    calls++;
    return realpath(...args);
  }) as typeof realpath;
  t.after(() => {
    fsp.realpath = realpath;
  });
  const storm = await Promise.all(Array.from({ length: 200 }, () => lookup.find(['ipxe.efi'])));
  assert.ok(storm.every((r) => r.found && r.stat.size === 1000));
  assert.equal(calls, 1, '200 machines asking at once: one lookup');
  const other = await Promise.all([lookup.find(['missing']), lookup.find(['ipxe.efi'])]);
  assert.deepEqual(
    other.map((r) => r.found),
    [false, true],
  );
  assert.equal(calls, 3, 'a later lookup runs again (a changed file is seen at once)');
});
