/**
 * FileLeaseStore: a durable LeaseStore in one process. The leases live in memory (LeaseIndex, the
 * same compare-and-set rule as every store); every change is appended to a write-ahead log of
 * CRC-framed JSON lines (WalWriter) and `commit`, `release` and `decline` resolve only once their
 * record is on disk, so the DHCPACK is sent only for a lease that survives `kill -9` or a power
 * cut. Offers are kept in memory only (as Kea and dnsmasq do) and written once at a clean close
 * (a config reload): after a crash a lost 30 s hold is harmless because the REQUEST's `commit`
 * checks the address again. The log is compacted into a snapshot when it grows.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { PxeError } from 'pxekit';
import type { Lease, LeaseState, LeaseStore, LeaseWrite } from 'pxekit/kit';
import { readLog, readSnapshot, syncDir, writeSnapshot } from './files.js';
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
}

const copy = (l: Lease): Lease => ({ ...l });

export class FileLeaseStore implements LeaseStore {
  readonly name = 'file';
  readonly #o: FileLeaseStoreOptions;
  readonly #index = new LeaseIndex();
  #wal: WalWriter | undefined;
  #handle: FileHandle | undefined;
  #seq = 0;
  /** The latest `now` an offer was made at: holds that expired before it are not written at close. */
  #lastNow = 0;
  #closed = false;

  constructor(o: FileLeaseStoreOptions) {
    this.#o = o;
  }

  get snapshotFile(): string {
    return `${this.#o.file}.snapshot`;
  }

  /** The writer (for tests: group counts, size). */
  get writer(): WalWriter | undefined {
    return this.#wal;
  }

  async load(): Promise<void> {
    if (this.#wal) return;
    const { file, log } = this.#o;
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await acquireLock(`${file}.lock`);
      await fsp.rm(`${this.snapshotFile}.tmp`, { force: true }); // a compaction cut short: the old snapshot + log are complete
      const snap = await readSnapshot(this.snapshotFile);
      for (const l of snap.leases) this.#index.put(l);
      const content = await readLog(file);
      let replayed = 0;
      for (const r of content.records) {
        if (r.q <= snap.q) continue; // already in the snapshot (written just after a compaction)
        this.#index.put(r.l);
        replayed++;
      }
      this.#seq = Math.max(snap.q, content.records.at(-1)?.q ?? 0);
      const handle = await fsp.open(file, 'a+', 0o600);
      this.#handle = handle;
      if (content.torn) {
        // Never acknowledged (its sync never completed): cut it so new records follow a clean line.
        log.warn(
          { event: 'lease-file.tail.torn', file, ...content.torn },
          `lease file ${file}: dropped an incomplete last record at line ${content.torn.line} ` +
            `(${content.torn.reason}), left by a crash during a write`,
        );
        await handle.truncate(content.validBytes);
        await handle.datasync();
      }
      await syncDir(path.dirname(file)); // a newly created log must survive too
      this.#wal = new WalWriter({
        handle,
        size: content.validBytes,
        fsync: this.#o.fsync,
        batchMs: this.#o.batchMs,
        log,
        compactEveryBytes: this.#o.compactEveryBytes,
        compact: () => this.compact(),
      });
      log.info(
        {
          event: 'lease-file.loaded',
          file,
          leases: this.#index.size,
          snapshot: snap.leases.length,
          replayed,
          seq: this.#seq,
        },
        `lease file loaded: ${this.#index.size} leases`,
      );
    } catch (err) {
      await this.#handle?.close().catch(() => undefined);
      this.#handle = undefined;
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

  /** Writes everything into a fresh snapshot and empties the log (the writer calls it between groups). */
  async compact(): Promise<void> {
    const started = Date.now();
    const q = this.#seq;
    const leases = this.#index.records();
    await writeSnapshot(this.snapshotFile, q, leases);
    await this.#wal?.truncate();
    this.#o.log.info(
      {
        event: 'lease-file.compacted',
        file: this.#o.file,
        leases: leases.length,
        seq: q,
        durationMs: Date.now() - started,
      },
      `lease file compacted: ${leases.length} leases`,
    );
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
    await this.#handle?.close();
    await releaseLock(`${this.#o.file}.lock`);
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
