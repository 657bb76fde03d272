/**
 * A full disk under the audit log: boots go on, the failure is logged once, lost records are counted,
 * and when space comes back an `audit.gap` record with `lost` is written and the chain still verifies.
 * Needs root to mount a 64 KiB tmpfs (node cannot set RLIMIT_FSIZE for itself).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../../../core/create-server.js';
import { verifyAuditFiles } from '../../../core/kit/audit/verify.js';
import auditLog from '../../../plugins/audit-log/index.js';
import sourceDisk from '../../../plugins/source-disk/index.js';
import { captureLog, waitFor } from './helpers.js';

const isRoot = process.getuid?.() === 0;

/** Fills the filesystem of `dir` with one file until ENOSPC; returns the file. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(4096, 0x61);
  try {
    for (let i = 0; i < 1024; i++) await fh.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
  return path;
}

/**
 * A tiny tmpfs at `<tmp>/mnt` (cleaned up after the test) and a boot folder with one script. Returns
 * undefined after skipping the test when the mount is refused.
 */
async function smallDisk(t: TestContext, mountOptions: string): Promise<{ mnt: string; root: string } | undefined> {
  const base = await mkdtemp(join(tmpdir(), 'pxekit-auditfull-'));
  const mnt = join(base, 'mnt');
  const root = join(base, 'boot');
  await mkdir(mnt);
  await mkdir(root);
  await writeFile(join(root, 'boot.ipxe'), '#!ipxe\nexit\n');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', mountOptions, 'tmpfs', mnt], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (m.status !== 0) {
    await rm(base, { recursive: true, force: true });
    t.skip(`cannot mount tmpfs: ${m.stderr.trim()}`);
    return undefined;
  }
  t.after(async () => {
    // Lazy: this hook can run before the test's own server.close() (hooks run in the order they were
    // added), while the audit file on it is still open; the mount goes once the file closes.
    spawnSync('umount', ['-l', mnt], { timeout: 10_000 });
    await rm(base, { recursive: true, force: true });
  });
  return { mnt, root };
}

test(
  'a full disk does not stop boots; the loss is logged once and recorded when space is back',
  { skip: isRoot ? false : 'needs root to mount a small tmpfs' },
  async (t) => {
    const disk = await smallDisk(t, 'size=64k');
    if (!disk) return;
    const { mnt, root } = disk;

    const cap = captureLog();
    const file = join(mnt, 'audit.jsonl');
    const server = createServer({
      logger: cap.logger,
      dhcp: { mode: 'off' },
      tftp: { enabled: false },
      http: { port: 0 },
      plugins: [sourceDisk({ root }), auditLog({ file, fsyncIntervalMs: 0, retryIntervalMs: 50 })],
    });
    await server.start();
    t.after(() => server.close());

    const get = () => server.inject.http({ path: '/boot.ipxe', remoteAddress: '127.0.0.1' });
    assert.equal((await get()).status, 200);
    assert.ok(
      await waitFor(async () => (await readFile(file, 'utf8')).includes('/boot.ipxe')),
      'the first record reaches the file',
    );

    const filler = await fill(mnt);
    for (let i = 0; i < 20; i++) assert.equal((await get()).status, 200, 'boots go on while the audit disk is full');
    assert.ok(await waitFor(() => cap.events('audit.write.failed').length > 0), 'the failure is logged');
    for (let i = 0; i < 10; i++) assert.equal((await get()).status, 200);
    const failed = cap.events('audit.write.failed');
    assert.equal(failed.length, 1, 'logged once per episode');
    assert.equal(failed[0]!['code'], 'PXE_ERR_AUDIT_WRITE');
    assert.equal(failed[0]!['errno'], 'ENOSPC');

    await rm(filler);
    assert.ok(await waitFor(() => cap.events('audit.write.resumed').length > 0), 'writing resumes once space is back');
    assert.equal((await get()).status, 200);
    await server.close();

    const recs = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const gap = recs.find((r) => r['type'] === 'audit.gap');
    assert.ok(gap, 'an audit.gap record marks the loss');
    const lost = gap['lost'] as number;
    // Every request emits one http.get; the written ones plus the lost ones account for all 32.
    const written = recs.filter((r) => r['type'] === 'http.get').length;
    assert.equal(written + lost, 32, `written ${written} + lost ${lost}`);
    assert.ok(lost > 0);
    const v = await verifyAuditFiles([file]);
    assert.equal(v.ok, true, JSON.stringify(v.bad));
  },
);

test(
  'a disk that is full at start: the server starts and boots, the audit file appears when there is room',
  { skip: isRoot ? false : 'needs root to mount a small tmpfs' },
  async (t) => {
    // Two inodes: the root folder and one file. Once the filler exists, no file can be created.
    const disk = await smallDisk(t, 'size=64k,nr_inodes=2');
    if (!disk) return;
    const { mnt, root } = disk;
    const filler = join(mnt, 'filler');
    await writeFile(filler, 'x');
    const file = join(mnt, 'audit.jsonl');
    const probe = await writeFile(join(mnt, 'probe'), 'x').then(
      () => 'created',
      (e: NodeJS.ErrnoException) => e.code,
    );
    if (probe !== 'ENOSPC') {
      t.skip(`this kernel's tmpfs does not refuse a new file when out of inodes (${probe})`);
      return;
    }
    const cap = captureLog();
    const server = createServer({
      logger: cap.logger,
      dhcp: { mode: 'off' },
      tftp: { enabled: false },
      http: { port: 0 },
      plugins: [sourceDisk({ root }), auditLog({ file, fsyncIntervalMs: 0, retryIntervalMs: 50 })],
    });
    await server.start();
    t.after(() => server.close());
    for (let i = 0; i < 5; i++) assert.equal((await server.inject.http({ path: '/boot.ipxe' })).status, 200);
    assert.ok(await waitFor(() => cap.events('audit.write.failed').length === 1));
    await rm(filler);
    // The next event after a retry finds room: the file is created, a gap record first.
    assert.ok(
      await waitFor(async () => {
        await server.inject.http({ path: '/boot.ipxe' });
        return cap.events('audit.write.resumed').length === 1;
      }),
    );
    await server.close();
    const recs = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(recs[0]!['type'], 'audit.gap');
    assert.equal(recs[0]!['seq'], 1);
    // Nothing could be opened, so nothing was taken off the queue: the records waited (bounded) and follow the gap.
    assert.equal(recs[0]!['lost'], undefined);
    assert.ok(recs.filter((r) => r['type'] === 'http.get').length >= 6);
    assert.equal((await verifyAuditFiles([file])).ok, true);
  },
);
