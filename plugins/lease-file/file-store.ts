/**
 * FileLeaseStore: a durable LeaseStore in one process. The leases live in memory (LeaseIndex, the
 * same compare-and-set rule as every store); every change is appended to a write-ahead log of
 * CRC-framed JSON lines (WalWriter) and `commit`, `release` and `decline` resolve only once their
 * record is on disk, so the DHCPACK is sent only for a lease that survives `kill -9` or a power
 * cut. Offers are kept in memory only (as Kea and dnsmasq do) and written once at a clean close
 * (a config reload): after a crash a lost 30 s hold is harmless because the REQUEST's `commit`
 * checks the address again. When the log grows it is rotated and folded into a snapshot beside
 * the appends (compactor.ts); start-up reads the snapshot and the log segments in order.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { PxeError } from 'pxekit';
import type { Lease, LeaseState, LeaseStore, LeaseWrite } from 'pxekit/kit';
import { Compactor, type CompactionStep } from './compactor.js';
import { compactingFile, readLog, readSnapshot, syncDir, type LogContent, type StepHook } from './files.js';
import { LeaseIndex } from './lease-index.js';
import { acquireLock, releaseLock } from './lock.js';
import { logLine } from './record.js';
import { WalWriter, type FsyncMode } from './wal-writer.js';

export interface FileLeaseStoreOptions {
  /** Absolute path of the log; the snapshot is `<file>.snapshot`, the lock `<file>.lock`. */
  file: string;
  fsync: FsyncMode;
  batchMs: number;
  compactEveryBytes: number;
  log: Logger;
  /** Called at each step of a compaction (tests hold a step, or copy the files there to simulate a crash). */
  onCompactionStep?: StepHook<CompactionStep>;
}

const copy = (l: Lease): Lease => ({ ...l });

const outOfOrder = (file: string, q: number, prev: number) =>
  new PxeError('PXE_ERR_LEASE_STORE', `lease file ${file}: sequence ${q} after ${prev} across its log segments`, {
    fix: `restore ${file}, ${compactingFile(file)} and ${file}.snapshot from a backup; pxekit never guesses past a corrupt record`,
  });

export class FileLeaseStore implements LeaseStore {
  readonly name = 'file';
  readonly #o: FileLeaseStoreOptions;
  readonly #index = new LeaseIndex();
  #wal: WalWriter | undefined;
  readonly #compactor: Compactor;
  #seq = 0;
  /** The latest `now` an offer was made at: holds that expired before it are not written at close. */
  #lastNow = 0;
  #closed = false;

  constructor(o: FileLeaseStoreOptions) {
    this.#o = o;
    this.#compactor = new Compactor({ file: o.file, log: o.log, onStep: o.onCompactionStep });
  }

  get snapshotFile(): string {
    return this.#compactor.snapshotFile;
  }

  /** The writer (for tests: group counts, size). */
  get writer(): WalWriter | undefined {
    return this.#wal;
  }

  async load(): Promise<void> {
    if (this.#wal) return;
    const { file, log } = this.#o;
    let handle: Awaited<ReturnType<typeof fsp.open>> | undefined;
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await acquireLock(`${file}.lock`);
      await fsp.rm(`${this.snapshotFile}.tmp`, { force: true }); // a compaction cut short: the old snapshot + log are complete
      const snap = await readSnapshot(this.snapshotFile);
      for (const l of snap.leases) this.#index.put(l);
      // A compaction cut short leaves the segment it was folding (older records) beside the live log.
      const older = await readLog(compactingFile(file));
      if (older.torn) this.#warnTorn(compactingFile(file), older);
      const content = await readLog(file);
      let replayed = 0;
      for (const r of [...older.records, ...content.records]) {
        if (r.q <= snap.q) continue; // already in the snapshot (written after these records)
        if (r.q <= this.#seq) throw outOfOrder(file, r.q, this.#seq);
        this.#index.put(r.l);
        this.#seq = r.q;
        replayed++;
      }
      this.#seq = Math.max(snap.q, this.#seq);
      handle = await fsp.open(file, 'a+', 0o600);
      if (content.torn) {
        // Never acknowledged (its sync never completed): cut it so new records follow a clean line.
        this.#warnTorn(file, content);
        await handle.truncate(content.validBytes);
        await handle.datasync();
      }
      await syncDir(path.dirname(file)); // a newly created log must survive too
      const folded = await this.#compactor.foldLeftover(this.#capture());
      this.#wal = new WalWriter({
        handle,
        size: content.validBytes,
        fsync: this.#o.fsync,
        batchMs: this.#o.batchMs,
        log,
        compactEveryBytes: this.#o.compactEveryBytes,
        rotate: (live) => this.#compactor.rotate(live, () => this.#capture()),
      });
      log.info(
        {
          event: 'lease-file.loaded',
          file,
          leases: this.#index.size,
          snapshot: snap.leases.length,
          replayed,
          seq: this.#seq,
          folded,
        },
        `lease file loaded: ${this.#index.size} leases`,
      );
    } catch (err) {
      await handle?.close().catch(() => undefined);
      this.#wal = undefined;
      await releaseLock(`${file}.lock`).catch(() => undefined);
      if (err instanceof PxeError) throw err;
      throw new PxeError('PXE_ERR_LEASE_STORE', `lease file ${file}: ${(err as Error).message}`, {
        cause: err,
        fix: 'check that the folder exists and is writable by pxekit',
      });
    }
  }

  async get(mac: string): Promise<Lease | undefined> {
    const l = this.#index.get(mac);
    return l && copy(l);
  }

  async getByIp(ip: string): Promise<Lease | undefined> {
    const l = this.#index.getByIp(ip);
    return l && copy(l);
  }

  async offer(lease: LeaseWrite, now: number): Promise<Lease | undefined> {
    this.#writable();
    if (now > this.#lastNow) this.#lastNow = now;
    const r = this.#index.write(lease, 'offered', now);
    // No log record: an offer promises nothing durable (see the file comment and README).
    return r && copy(r);
  }

  async commit(lease: LeaseWrite, now: number): Promise<Lease | undefined> {
    const wal = this.#writable();
    const r = this.#index.write(lease, 'bound', now);
    if (!r) return undefined;
    await wal.append(this.#record(r), true);
    return copy(r);
  }

  /** `onlyState`: free it only while the record is still in that state (checked in the same step). */
  async release(mac: string, ip: string, now: number, onlyState?: LeaseState): Promise<boolean> {
    const wal = this.#writable();
    const next = this.#index.release(mac, ip, now, onlyState);
    if (!next) return false;
    await wal.append(this.#record(next), true);
    return true;
  }

  async decline(ip: string, until: number, subnet: string, now: number): Promise<void> {
    const wal = this.#writable();
    await wal.append(this.#record(this.#index.decline(ip, until, subnet, now)), true);
  }

  async list(): Promise<Lease[]> {
    return this.#index.records().map(copy);
  }

  /** Rotates the log now and resolves once its snapshot is written (the writer does this by itself as the log grows). */
  async compact(): Promise<void> {
    await this.#compactor.idle();
    await this.#wal?.rotateNow();
    await this.#compactor.idle();
  }

  /** Resolves once everything queued is on disk and no compaction runs (for tests and tools). */
  async settled(): Promise<void> {
    await this.#wal?.flush();
    await this.#compactor.idle();
  }

  async close(): Promise<void> {
    if (this.#closed || !this.#wal) return;
    this.#closed = true;
    // Holds still live at a clean stop are written now: a config reload hands the file to a new store, and
    // an exchange begun before it must complete after it. Only a crash loses them (harmless, see above).
    for (const l of this.#index.records())
      if (l.state === 'offered' && l.expiresAt > this.#lastNow && !this.#wal.failed)
        void this.#wal.append(this.#record(l), false);
    await this.#wal.flush();
    await this.#compactor.idle(); // a reload's new store must not find a half-done compaction
    await this.#wal.handle.close();
    await releaseLock(`${this.#o.file}.lock`);
  }

  /** The state a snapshot taken now holds: every record up to the last sequence number handed out. */
  #capture(): { q: number; leases: Lease[] } {
    return { q: this.#seq, leases: this.#index.records() };
  }

  #warnTorn(file: string, content: LogContent): void {
    const torn = content.torn!;
    this.#o.log.warn(
      { event: 'lease-file.tail.torn', file, ...torn },
      `lease file ${file}: dropped an incomplete last record at line ${torn.line} (${torn.reason}), ` +
        'left by a crash during a write',
    );
  }

  #record(l: Lease): string {
    return logLine(++this.#seq, l);
  }

  #writable(): WalWriter {
    if (!this.#wal || this.#closed)
      throw new PxeError(
        'PXE_ERR_LEASE_STORE',
        `lease file ${this.#o.file} is ${this.#closed ? 'closed' : 'not loaded'}`,
        { fix: 'the DHCP service loads the store at start' },
      );
    const failed = this.#wal.failed;
    if (failed)
      throw new PxeError('PXE_ERR_LEASE_STORE', failed.message, {
        cause: failed,
        fix: 'check the disk (space, errors in dmesg) and restart pxekit',
      });
    return this.#wal;
  }
}
