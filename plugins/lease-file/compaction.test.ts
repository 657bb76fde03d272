/**
 * lease-file compaction beside appends: commits are acknowledged (on disk) while a snapshot is being
 * written; a crash at every step of a rotation loads every acknowledged lease once, no address bound
 * to two clients; a reload waits for a running compaction; files of the previous layout still load.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Lease } from 'pxekit/kit';
import type { CompactionStep } from './compactor.js';
import type { FileLeaseStore, FileLeaseStoreOptions } from './file-store.js';
import { compactingFile, readLog } from './files.js';
import { frame, logLine } from './record.js';
import { ipOf, macOf, openStore, SUBNET, tempDir, w } from '../../test/helpers/lease-fixtures.js';

/** Stores here write a group every millisecond. */
const open = (file: string, o: Partial<FileLeaseStoreOptions> = {}) => openStore(file, { batchMs: 1, ...o });

/** A gate a compaction step waits at until the test opens it. */
function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const arrived = new Promise<void>((r) => (reached = r));
  return { opened, arrived, open, reached };
}

/**
 * Every lease in `acked` is in the store field by field, or (`later`) a change of it made after it (a record
 * written but not yet synced at the crash: kill -9 keeps it); no client holds two bound addresses.
 */
async function assertHolds(
  s: FileLeaseStore,
  acked: ReadonlyMap<string, Lease>,
  where: string,
  later?: (l: Lease) => number,
): Promise<void> {
  for (const [ip, l] of acked) {
    const back = await s.getByIp(ip);
    if (later && back && later(back) > later(l)) continue;
    assert.deepEqual(back, l, `${where}: acknowledged ${ip}`);
  }
  const boundBy = new Map<string, string>();
  for (const l of await s.list()) {
    if (l.state !== 'bound') continue;
    assert.equal(boundBy.get(l.mac), undefined, `${where}: ${l.mac} bound to ${boundBy.get(l.mac)} and ${l.ip}`);
    boundBy.set(l.mac, l.ip);
  }
}

test('commits are acknowledged, on disk, while a snapshot is being written', { timeout: 20_000 }, async (t) => {
  const file = path.join(tempDir(t, 'pxk-lease-compact-'), 'leases.log');
  const held = gate();
  const s = await open(file, {
    onCompactionStep: async (step) => {
      if (step !== 'snapshot.written') return;
      held.reached();
      await held.opened;
    },
  });
  const acked = new Map<string, Lease>();
  for (let i = 1; i <= 200; i++) acked.set(ipOf(i), (await s.commit(w(macOf(i), ipOf(i), 90_000 + i), 1))!);
  const compaction = s.compact();
  await held.arrived; // the snapshot is written but not synced nor renamed: the compaction is held here
  const syncs = s.writer!.syncs;
  const during = await Promise.all(
    Array.from({ length: 100 }, (_, k) => s.commit(w(macOf(300 + k), ipOf(300 + k), 90_000), 2)),
  );
  for (const l of during) acked.set(l!.ip, l!);
  assert.ok(s.writer!.syncs > syncs, 'the commits were synced while the compaction was held');
  const live = await readLog(file);
  assert.deepEqual(
    live.records.map((r) => r.l.ip),
    during.map((l) => l!.ip),
    'the held compaction had already moved the old log aside: the new log holds exactly the commits made since',
  );
  held.open();
  await compaction;
  assert.equal(existsSync(compactingFile(file)), false, 'the old segment is gone once the snapshot is in place');
  const image = path.join(tempDir(t, 'pxk-lease-compact-'), 'leases.log');
  cpSync(path.dirname(file), path.dirname(image), { recursive: true });
  await assertHolds(await open(image), acked, 'after the compaction');
});

const STEPS: CompactionStep[] = ['log.moved', 'log.opened', 'snapshot.written', 'snapshot.synced', 'snapshot.renamed'];

test('a crash at every step of a compaction loads every acknowledged lease once', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, 'pxk-lease-compact-');
  const file = path.join(dir, 'live', 'leases.log');
  const acked = new Map<string, Lease>();
  let resolved = 0;
  const waiters: Array<{ at: number; go: () => void }> = [];
  const images: Array<{ name: string; file: string; acked: Map<string, Lease> }> = [];
  /** The files as `kill -9` now would leave them (the page cache survives it), and what was acknowledged by then. */
  const crash = (name: string): string => {
    const image = path.join(dir, name, 'leases.log');
    cpSync(path.dirname(file), path.dirname(image), { recursive: true });
    images.push({ name, file: image, acked: new Map(acked) });
    return image;
  };
  const s = await open(file, {
    compactEveryBytes: 32 << 10,
    onCompactionStep: async (step) => {
      const image = crash(`${step}-${images.length}`);
      if (step === 'snapshot.written') {
        // Mid-snapshot: the temp file cut in half, as a crash during its write leaves it.
        const tmp = `${image}.snapshot.tmp`;
        truncateSync(tmp, readFileSync(tmp).length >> 1);
      }
      // The writer is blocked only during the rotation; from the snapshot on, appends go on meanwhile.
      if (step.startsWith('snapshot')) await new Promise<void>((go) => waiters.push({ at: resolved + 15, go }));
    },
  });
  /** Changes of one address in the order they were made: commit `h<i>`, then its release. */
  const order = (l: Lease) => Number(l.hostname!.slice(1)) * 2 + (l.state === 'released' ? 1 : 0);
  // Clients come, renew and leave; records of one address are spread over segments, so order matters.
  for (let i = 0; i < 1500; i++) {
    const k = 1 + (i % 400);
    const ip = ipOf(k);
    const op =
      i % 9 === 8
        ? s.release(macOf(k), ip, 3).then(async (ok) => (ok ? (await s.getByIp(ip))! : undefined))
        : s.commit({ ...w(macOf(k), ip, 90_000 + i), hostname: `h${i}` }, 2);
    void op.then((l) => {
      if (l) acked.set(ip, { ...l });
      resolved++;
      for (const x of waiters.filter((x) => x.at <= resolved)) {
        waiters.splice(waiters.indexOf(x), 1);
        x.go();
      }
    });
    if (i % 20 === 19) await op;
  }
  await s.settled();
  for (const x of waiters.splice(0)) x.go();
  await s.settled();
  const seen = new Set(images.map((i) => i.name.replace(/-\d+$/, '')));
  for (const step of [...STEPS, 'segment.removed']) assert.ok(seen.has(step), `a crash image at ${step}`);
  for (const image of images) {
    const reloaded = await open(image.file);
    await assertHolds(reloaded, image.acked, `crash at ${image.name}`, order);
    assert.equal(
      existsSync(compactingFile(image.file)),
      false,
      `${image.name}: the old segment was folded at start-up`,
    );
    await reloaded.close();
    // Loaded once more (after the fold at start-up): the same leases.
    await assertHolds(await open(image.file), image.acked, `crash at ${image.name}, second start`, order);
  }
  await assertHolds(await open(crash('end')), acked, 'the end');
});

test('a reload waits for a running compaction; the new store reads everything', { timeout: 20_000 }, async (t) => {
  const file = path.join(tempDir(t, 'pxk-lease-compact-'), 'leases.log');
  const held = gate();
  const s = await open(file, {
    onCompactionStep: async (step) => {
      if (step !== 'snapshot.synced') return;
      held.reached();
      await held.opened;
    },
  });
  const acked = new Map<string, Lease>();
  for (let i = 1; i <= 100; i++) acked.set(ipOf(i), (await s.commit(w(macOf(i), ipOf(i), 90_000), 1))!);
  const compaction = s.compact();
  await held.arrived;
  for (let i = 101; i <= 150; i++) acked.set(ipOf(i), (await s.commit(w(macOf(i), ipOf(i), 90_000), 1))!);
  let closed = false;
  const closing = s.close().then(() => (closed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, false, 'close waits for the compaction');
  held.open();
  await Promise.all([compaction, closing]);
  assert.equal(existsSync(compactingFile(file)), false);
  await assertHolds(await open(file), acked, 'the reloaded store');
});

test('files of the previous layout load: snapshot + a log whose first records it already holds', async (t) => {
  const file = path.join(tempDir(t, 'pxk-lease-compact-'), 'leases.log');
  const lease = (i: number, expiresAt: number): Lease => ({
    ip: ipOf(i),
    mac: macOf(i),
    state: 'bound',
    expiresAt,
    subnet: SUBNET,
    updatedAt: 1,
  });
  // As the previous version left them after a crash between the snapshot's rename and the log's truncation.
  writeFileSync(`${file}.snapshot`, frame({ v: 1, q: 3, n: 3 }) + [1, 2, 3].map((i) => frame(lease(i, 500))).join(''));
  writeFileSync(file, [1, 2, 3, 4, 5].map((i) => logLine(i, lease(i, i <= 3 ? 400 : 600))).join(''));
  const s = await open(file);
  assert.deepEqual(
    (await s.list()).map((l) => l.expiresAt),
    [500, 500, 500, 600, 600],
  );
  const next = await s.commit(w(macOf(6), ipOf(6), 700), 2);
  assert.ok(next);
  await s.compact();
  assert.deepEqual((await (await open(file)).list()).length, 6);
});
