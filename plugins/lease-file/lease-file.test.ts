/**
 * lease-file unit tests: write and reload, torn tail, mid-file corruption, compaction, group commit,
 * the compare-and-set rule under concurrency (and the same results as the memory store), the lock,
 * and the plugin inside a server answering DHCP.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PxeError } from 'pxekit';
import { type Lease, MemoryLeaseStore } from 'pxekit/kit';
import { memoryLogger } from '../../test/unit/dhcp-service/helpers.js';
import { closeAtExit, ipOf, macOf, openStore, SUBNET, tempDir, w } from '../../test/helpers/lease-fixtures.js';
import { FileLeaseStore } from './file-store.js';
import { readSnapshot } from './files.js';
import { WalWriter } from './wal-writer.js';
import { mkdir, open as fsOpen } from 'node:fs/promises';

const tempFile = (t: { after(fn: () => void): void }) => path.join(tempDir(t), 'sub', 'leases.log');
const open = openStore;

const byIp = (a: Lease, b: Lease) => a.ip.localeCompare(b.ip);

test('commits survive a reload without close (a crash), records equal field by field', async (t) => {
  const file = tempFile(t);
  const s = await open(file);
  for (let i = 1; i <= 50; i++)
    assert.ok(await s.commit({ ...w(macOf(i), ipOf(i), 10_000 + i), hostname: `h${i}`, clientId: '01ab' }, 100));
  assert.ok(await s.release(macOf(3), ipOf(3), 200));
  await s.decline(ipOf(4), 9000, SUBNET, 300);
  const before = (await s.list()).sort(byIp);
  // No close(): the next store opens the file as it is on disk, like a restart after kill -9.
  const again = await open(file);
  assert.deepEqual((await again.list()).sort(byIp), before);
  assert.equal((await again.get(macOf(3)))?.state, 'released');
  assert.equal((await again.getByIp(ipOf(4)))?.state, 'declined');
  assert.equal(await again.get(macOf(4)), undefined, 'the declined address has no owner any more');
  await again.close();
});

test('offers are not logged (a crash loses the hold); a clean close writes the live ones (a reload keeps them)', async (t) => {
  const file = tempFile(t);
  const s = await open(file);
  await s.commit(w(macOf(1), ipOf(1), 5000), 10);
  assert.ok(await s.offer(w(macOf(2), ipOf(2), 5000), 10));
  assert.ok(await s.offer(w(macOf(3), ipOf(3), 20), 10));
  await s.settled();
  assert.equal(s.writer?.syncs, 1, 'only the commit was written');
  const crashed = await open(file);
  assert.equal(await crashed.getByIp(ipOf(2)), undefined, 'after a crash the hold is gone');
  assert.equal((await crashed.getByIp(ipOf(1)))?.state, 'bound');
  assert.ok(await s.offer(w(macOf(4), ipOf(4), 5000), 30));
  await s.close();
  const again = await open(file);
  assert.equal((await again.getByIp(ipOf(2)))?.state, 'offered', 'a live hold survives a clean close');
  assert.equal((await again.getByIp(ipOf(4)))?.mac, macOf(4));
  assert.equal(await again.getByIp(ipOf(3)), undefined, 'an expired hold is not written');
  assert.equal((await again.getByIp(ipOf(1)))?.state, 'bound');
});

test('batch mode: concurrent commits share one fdatasync; always: one per commit', async (t) => {
  const file = tempFile(t);
  const batch = await open(file);
  await Promise.all(Array.from({ length: 20 }, (_, i) => batch.commit(w(macOf(i + 1), ipOf(i + 1), 5000), 1)));
  assert.equal(batch.writer?.syncs, 1, 'twenty commits queued in one tick went out in one group');
  await batch.close();
  const always = await open(`${file}2`, { fsync: 'always' });
  await Promise.all(Array.from({ length: 5 }, (_, i) => always.commit(w(macOf(i + 1), ipOf(i + 1), 5000), 1)));
  assert.equal(always.writer?.syncs, 5);
  await always.close();
});

test('batch mode under steady load: at most one group per batchMs, every commit durable when it resolves', async (t) => {
  const file = tempFile(t);
  const s = await open(file, { batchMs: 300 }); // far longer than a sync: without the cadence, one group per sync
  const started = performance.now();
  const commits: Promise<unknown>[] = [];
  for (let i = 1; performance.now() - started < 1200 && i < 3000; i++) {
    commits.push(s.commit(w(macOf(i), ipOf(i), 50_000), 1));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(commits);
  const took = performance.now() - started;
  const syncs = s.writer!.syncs;
  assert.ok(
    syncs <= Math.ceil(took / 300) + 1,
    `${syncs} groups for ${commits.length} commits in ${took.toFixed(0)} ms`,
  );
  const r = await open(file);
  assert.equal((await r.list()).length, commits.length, 'every resolved commit is in the file');
});

test('batch mode: a commit that finds the log idle is written at once, not after batchMs', async (t) => {
  const file = tempFile(t);
  const s = await open(file, { batchMs: 800 });
  await s.commit(w(macOf(1), ipOf(1), 5000), 1);
  await new Promise((r) => setTimeout(r, 850)); // the log is idle again
  const started = performance.now();
  await s.commit(w(macOf(2), ipOf(2), 5000), 1);
  const took = performance.now() - started;
  assert.ok(took < 400, `an idle commit waited ${took.toFixed(0)} ms (the window is 800)`);
  // The next one, right after, waits out the window: its group starts batchMs after the previous one did.
  await s.commit(w(macOf(3), ipOf(3), 5000), 1);
  const spaced = performance.now() - started;
  assert.ok(spaced >= 780, `a commit within batchMs of the last group waited only ${spaced.toFixed(0)} ms in all`);
  assert.equal(s.writer!.syncs, 3);
});

test('a failed write rejects the waiting commit with PXE_ERR_LEASE_STORE and every later change', async (t) => {
  const file = tempFile(t);
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await fsOpen(file, 'a');
  const { logger, lines } = memoryLogger();
  const wal = new WalWriter({ handle, size: 0, fsync: 'batch', batchMs: 1, log: logger, compactEveryBytes: 1 << 24 });
  await wal.append('a\n', true);
  await handle.close(); // the next write fails with EBADF, like a disk error
  await assert.rejects(
    wal.append('b\n', true),
    (e: unknown) => e instanceof PxeError && e.code === 'PXE_ERR_LEASE_STORE',
  );
  await assert.rejects(wal.append('c\n', false), /lease log write failed/);
  assert.ok(lines.some((l) => l.event === 'lease-file.write.error'));
  assert.equal(readFileSync(file, 'utf8'), 'a\n');
});

test('a torn last record is dropped with a warning and cut off; later writes follow a clean line', async (t) => {
  const file = tempFile(t);
  const s = await open(file);
  for (let i = 1; i <= 5; i++) await s.commit(w(macOf(i), ipOf(i), 5000), 1);
  const good = statSync(file).size;
  appendFileSync(file, '1234abcd {"q":99,"l":{"ip":"10.0.0.9'); // a crash in the middle of an append
  const { logger, lines } = memoryLogger();
  const r = new FileLeaseStore({ file, fsync: 'batch', batchMs: 2, compactEveryBytes: 1 << 24, log: logger });
  await r.load();
  closeAtExit(r);
  assert.equal((await r.list()).length, 5);
  const warn = lines.find((l) => l.event === 'lease-file.tail.torn');
  assert.ok(warn, 'warned');
  assert.equal(warn.line, 6);
  assert.equal(statSync(file).size, good, 'cut back to the last complete record');
  await r.commit(w(macOf(6), ipOf(6), 5000), 1);
  const r2 = await open(file);
  assert.equal((await r2.list()).length, 6);
  // Zero-filled blocks (a crash after the size grew, before the data) are a torn tail too.
  appendFileSync(file, Buffer.alloc(300));
  const r3 = await open(file);
  assert.equal((await r3.list()).length, 6);
});

test('corruption in the middle stops start-up with PXE_ERR_LEASE_STORE naming the file and line', async (t) => {
  const file = tempFile(t);
  const s = await open(file);
  for (let i = 1; i <= 5; i++) await s.commit(w(macOf(i), ipOf(i), 5000), 1);
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[2] = lines[2]!.replace('"bound"', '"bounD"'); // valid JSON, wrong CRC
  writeFileSync(file, lines.join('\n'));
  await assert.rejects(
    open(file),
    (e: unknown) =>
      e instanceof PxeError &&
      e.code === 'PXE_ERR_LEASE_STORE' &&
      e.message.includes(file) &&
      e.message.includes('line 3') &&
      /CRC/.test(e.message),
  );
  // A record that is framed correctly but out of sequence is corruption too.
  lines[2] = lines[0]!;
  writeFileSync(file, lines.join('\n'));
  await assert.rejects(open(file), /line 3: sequence 1 after 2/);
});

test('compaction writes a snapshot, empties the log, and keeps every lease across reloads', async (t) => {
  const file = tempFile(t);
  const s = await open(file, { compactEveryBytes: 8192 });
  for (let i = 1; i <= 300; i++) {
    await s.offer(w(macOf(i), ipOf(i), 100 + i), 1);
    await s.commit({ ...w(macOf(i), ipOf(i), 50_000 + i), hostname: `host-${i}` }, 2);
  }
  for (let i = 1; i <= 300; i += 7) await s.release(macOf(i), ipOf(i), 3);
  await s.settled();
  assert.ok(existsSync(`${file}.snapshot`), 'snapshot written');
  assert.ok(statSync(file).size < 8192 + 4096, 'the log was emptied by compaction');
  const want = (await s.list()).sort(byIp);
  assert.equal(want.length, 300);
  const r = await open(file, { compactEveryBytes: 8192 });
  assert.deepEqual((await r.list()).sort(byIp), want);
  await r.compact(); // everything in the snapshot, nothing in the log
  assert.equal(statSync(file).size, 0);
  const r2 = await open(file);
  assert.deepEqual((await r2.list()).sort(byIp), want);
  // A leftover temp file from a compaction cut short is ignored and removed.
  writeFileSync(`${file}.snapshot.tmp`, 'half a snap');
  const r3 = await open(file);
  assert.deepEqual((await r3.list()).sort(byIp), want);
  assert.equal(existsSync(`${file}.snapshot.tmp`), false);
});

test('compaction while commits keep arriving: records queued during it are neither lost nor replayed twice', async (t) => {
  const file = tempFile(t);
  let compactions = 0;
  const s = await open(file, {
    compactEveryBytes: 4096,
    batchMs: 0,
    onCompactionStep: (step) => void (step === 'segment.removed' && compactions++),
  });
  // 40 waves of 50 concurrent offer+commit pairs; clients move between addresses so replay order matters.
  for (let wave = 0; wave < 40; wave++) {
    await Promise.all(
      Array.from({ length: 50 }, async (_, k) => {
        const i = 1 + ((wave * 7 + k) % 120);
        const ip = ipOf(1 + ((wave * 13 + k * 3) % 200));
        if (await s.offer(w(macOf(i), ip, 1000 + wave), wave)) await s.commit(w(macOf(i), ip, 90_000 + wave), wave);
      }),
    );
  }
  await s.settled();
  assert.ok(compactions >= 2, `compacted ${compactions} times`);
  const want = (await s.list()).sort(byIp);
  const r = await open(file);
  assert.deepEqual((await r.list()).sort(byIp), want);
});

test('a damaged snapshot stops start-up', async (t) => {
  const file = tempFile(t);
  const s = await open(file);
  for (let i = 1; i <= 10; i++) await s.commit(w(macOf(i), ipOf(i), 5000), 1);
  await s.compact();
  const snap = `${file}.snapshot`;
  writeFileSync(snap, readFileSync(snap, 'utf8').split('\n').slice(0, 5).join('\n') + '\n');
  await assert.rejects(open(file), /snapshot.*line 5: the header announces 10 leases/s);
});

test('concurrent offers and commits for one address: exactly one client wins', async (t) => {
  const s = await open(tempFile(t));
  const offers = await Promise.all(
    Array.from({ length: 30 }, (_, i) => s.offer(w(macOf(i + 1), '10.0.0.200', 1000), 0)),
  );
  assert.equal(offers.filter(Boolean).length, 1);
  const commits = await Promise.all(
    Array.from({ length: 30 }, (_, i) => s.commit(w(macOf(i + 100), '10.0.0.201', 1000), 0)),
  );
  const winners = commits.filter((l): l is Lease => l !== undefined);
  assert.equal(winners.length, 1);
  assert.equal((await s.getByIp('10.0.0.201'))?.mac, winners[0]!.mac);
  const r = await open((s as unknown as { snapshotFile: string }).snapshotFile.replace(/\.snapshot$/, ''));
  assert.equal((await r.getByIp('10.0.0.201'))?.mac, winners[0]!.mac, 'the winner is what is on disk');
});

/**
 * In memory the file store answers exactly like the memory store. On disk it keeps what a client was
 * promised, not the offers (they are memory only, as in Kea and dnsmasq: a hold lost in a restart is
 * harmless because the REQUEST's commit checks the address again). So after a reload: every
 * address's record is the last one a commit/release/decline wrote for it, or the one the last
 * snapshot took from memory (or none), nothing else;
 * every record the running store still held from such an operation is there, field by field; and
 * no address is bound on disk to one client while the running store had it bound to another.
 */
test('same answers as the memory store over a random sequence; after a reload every durable record', async (t) => {
  const file = tempFile(t);
  const fileStore = await open(file, { compactEveryBytes: 16_384, batchMs: 0 });
  const mem = new MemoryLeaseStore();
  const durable = new Map<string, Lease>(); // per address, the record its last commit/release/decline left
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  /** Opens the file as a restart would (the store stays open: a crash) and checks it; returns records compared. */
  const reloadAndCheck = async (now: number): Promise<number> => {
    // The files as a crash now would leave them (a compaction may be half done beside the appends).
    const image = path.join(tempDir(t, 'pxk-lease-crash-'), 'leases.log');
    cpSync(path.dirname(file), path.dirname(image), { recursive: true });
    // A snapshot holds what the store held when it was written (offers too).
    const compacted = new Map((await readSnapshot(`${image}.snapshot`)).leases.map((l) => [l.ip, l]));
    const reloaded = await open(image);
    const back = await reloaded.list();
    snapshotted += compacted.size;
    for (const r of back) {
      const fromSnapshot = compacted.get(r.ip);
      if (!fromSnapshot || JSON.stringify(r) !== JSON.stringify(fromSnapshot))
        assert.deepEqual(r, durable.get(r.ip), `reloaded ${r.ip}: its last durable record (or the snapshot's)`);
    }
    for (const [ip, l] of durable) {
      const live = await fileStore.getByIp(ip);
      if (live && JSON.stringify(live) === JSON.stringify(l))
        assert.deepEqual(await reloaded.getByIp(ip), l, `${ip}: the durable record the store held`);
    }
    for (const r of back.filter((x) => x.state === 'bound' && x.expiresAt > now)) {
      const held = await mem.getByIp(r.ip);
      if (held?.state === 'bound' && held.expiresAt > now)
        assert.equal(held.mac, r.mac, `${r.ip} bound on disk to the client it is bound to`);
    }
    return back.length;
  };
  let compared = 0;
  let snapshotted = 0;
  for (let step = 0; step < 3000; step++) {
    const now = step * 10;
    const mac = macOf(1 + rnd(40));
    const ip = ipOf(1 + rnd(30));
    const op = rnd(10);
    const ttl = 20 + rnd(400);
    const [a, b] =
      op < 4
        ? [await fileStore.offer(w(mac, ip, now + ttl), now), await mem.offer(w(mac, ip, now + ttl), now)]
        : op < 8
          ? [await fileStore.commit(w(mac, ip, now + ttl), now), await mem.commit(w(mac, ip, now + ttl), now)]
          : op < 9
            ? [await fileStore.release(mac, ip, now), await mem.release(mac, ip, now)]
            : [await fileStore.decline(ip, now + ttl, SUBNET, now), await mem.decline(ip, now + ttl, SUBNET, now)];
    const strip = (v: unknown) => (v && typeof v === 'object' ? { ...(v as Lease), updatedAt: 0 } : v);
    assert.deepEqual(strip(a), strip(b), `step ${step}`);
    if (op >= 9 || (op >= 4 && a)) durable.set(ip, (await fileStore.getByIp(ip))!); // a commit/release/decline wrote
    if ((step + 1) % 500 === 0) compared += await reloadAndCheck(now);
  }
  const norm = (l: Lease[]) => l.map((x) => ({ ...x, updatedAt: 0 })).sort(byIp);
  assert.deepEqual(norm(await fileStore.list()), norm(await mem.list()));
  assert.ok(compared > 20, `the sequence left records to compare (${compared})`);
  assert.ok(snapshotted > 0, 'compactions happened');
});

test('a lease file locked by a live process is refused; a stale lock is taken over', async (t) => {
  const file = tempFile(t);
  const s = await open(file);
  await s.close();
  writeFileSync(`${file}.lock`, `${process.ppid}\n`);
  await assert.rejects(
    open(file),
    (e: unknown) => e instanceof PxeError && e.code === 'PXE_ERR_LEASE_STORE' && /in use by process/.test(e.message),
  );
  writeFileSync(`${file}.lock`, '999999999\n');
  const r = await open(file);
  assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
  await r.close();
  assert.equal(existsSync(`${file}.lock`), false, 'close() removes its lock');
});

test('release with onlyState frees the lease only while it is still in that state', async (t) => {
  const s = await open(tempFile(t));
  await s.offer(w(macOf(1), ipOf(1), 1000), 0);
  await s.commit(w(macOf(1), ipOf(1), 5000), 1);
  assert.equal(await s.release(macOf(1), ipOf(1), 2, 'offered'), false, 'bound meanwhile: kept');
  assert.equal((await s.get(macOf(1)))?.state, 'bound');
  assert.equal(await s.release(macOf(1), ipOf(1), 3, 'bound'), true);
  assert.equal((await s.get(macOf(1)))?.state, 'released');
});
