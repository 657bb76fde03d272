import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntentStore } from './intents.js';
import { PxeError } from 'pxekit';

async function tmp(t: { after(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'intent-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('set / markBooted / clear persist atomically (no temp files left) and survive a new store', async (t) => {
  const dir = await tmp(t);
  const file = join(dir, 'intents.json');
  const a = new IntentStore({ file });
  await a.load();
  assert.deepEqual(a.list(), [], 'a missing file is an empty store');
  await Promise.all([a.set('52:54:00:00:00:01', 'once'), a.set('5254.0000.0002', 'never')]);
  assert.equal((await a.markBooted('52:54:00:00:00:01'))?.state, 'done');
  assert.equal(await a.markBooted('52:54:00:00:00:02'), undefined, 'never is not a one-shot');
  assert.deepEqual(await readdir(dir), ['intents.json']);
  const b = new IntentStore({ file });
  await b.load();
  assert.deepEqual(
    b.list().map((i) => [i.mac, i.state]),
    [
      ['52:54:00:00:00:01', 'done'],
      ['52:54:00:00:00:02', 'never'],
    ],
  );
  assert.ok(b.get('52-54-00-00-00-01')?.bootedAt);
  assert.equal(await b.clear('52:54:00:00:00:02'), true);
  assert.equal(await b.clear('52:54:00:00:00:02'), false);
  // A change made by another process is merged, not overwritten.
  await a.set('52:54:00:00:00:03', 'once');
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')).intents['52:54:00:00:00:02'], undefined);
});

test('bad entries are skipped; bad JSON and bad MACs are PXE_ERR_INTENT_STORE', async (t) => {
  const dir = await tmp(t);
  const file = join(dir, 'intents.json');
  await writeFile(
    file,
    JSON.stringify({
      version: 1,
      intents: {
        'zz:zz': { state: 'once' },
        '52:54:00:00:00:01': { state: 'maybe' },
        '52:54:00:00:00:02': { state: 'never', setAt: 'x' },
      },
    }),
  );
  const s = new IntentStore({ file });
  await s.load();
  assert.deepEqual(
    s.list().map((i) => i.mac),
    ['52:54:00:00:00:02'],
  );
  await writeFile(file, '[');
  await assert.rejects(
    new IntentStore({ file }).load(),
    (e: unknown) => e instanceof PxeError && e.code === 'PXE_ERR_INTENT_STORE',
  );
  await assert.rejects(s.set('not-a-mac', 'once'), /not a MAC/);
  await s.reload();
  assert.equal(s.get('52:54:00:00:00:02')?.state, 'never', 'a bad reload keeps the current state');
});

test(
  'a failed write keeps the change in memory and reports PXE_ERR_INTENT_STORE',
  { skip: process.getuid?.() === 0 ? 'root ignores folder permissions' : false },
  async (t) => {
    const dir = await tmp(t);
    const s = new IntentStore({ file: join(dir, 'intents.json') });
    await s.load();
    await chmod(dir, 0o500);
    t.after(() => chmod(dir, 0o700));
    await assert.rejects(
      s.set('52:54:00:00:00:09', 'never'),
      (e: unknown) => e instanceof PxeError && e.code === 'PXE_ERR_INTENT_STORE',
    );
    assert.equal(s.get('52:54:00:00:00:09')?.state, 'never');
  },
);

test('memory-only store works without a file', async () => {
  const s = new IntentStore();
  await s.load();
  await s.set('52:54:00:00:00:01', 'once');
  assert.equal((await s.markBooted('52:54:00:00:00:01'))?.state, 'done');
});
