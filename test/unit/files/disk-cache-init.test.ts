/** DiskCache.init: finds the cached files a previous run left (by their key names), drops interrupted writes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DiskCache } from 'pxekit';

test('init indexes key-named files, removes .tmp- leftovers, ignores other names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-diskcache-'));
  const key = 'a'.repeat(64);
  writeFileSync(join(dir, key), 'x'.repeat(100));
  writeFileSync(join(dir, `${'b'.repeat(64)}.tmp-0123456789ab`), 'partial');
  writeFileSync(join(dir, 'README'), 'not ours');
  const cache = new DiskCache(dir, 1000, pino({ level: 'silent' }));
  await cache.init();
  assert.equal(cache.totalBytes, 100);
  assert.ok(cache.lookup(key, 100), 'the cached file is found again');
  assert.equal(existsSync(join(dir, `${'b'.repeat(64)}.tmp-0123456789ab`)), false);
  assert.equal(existsSync(join(dir, 'README')), true);
});
