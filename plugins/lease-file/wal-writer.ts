/**
 * The append side of the lease log, with group commit.
 *
 * Records are queued in memory and written by one drain loop, so the log's order is the order in
 * which the store applied the mutations. A durable record's promise resolves only after a write()
 * that contains it AND an fdatasync() that started after that write have both completed:
 *  - `always`: every durable record gets its own write + fdatasync (non-durable records queued
 *    before it ride along in the same write);
 *  - `batch`: the first record of a group starts a `batchMs` timer; everything queued until the
 *    timer fires, or while the previous fdatasync is still running, goes out in ONE write and ONE
 *    fdatasync, after which all their promises resolve. Throughput then costs one disk flush per
 *    group, not per lease, and no promise resolves before its bytes are on disk.
 * A failed write or sync is not retried (after a failed fsync the page cache can no longer be
 * trusted): every waiting promise rejects and the writer stays failed until a restart.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { PxeError } from 'pxekit';

export type FsyncMode = 'always' | 'batch';

interface Entry {
  data: string;
  done?: { resolve: () => void; reject: (e: Error) => void };
}

export interface WalWriterOptions {
  handle: FileHandle;
  /** Bytes already in the log (after load and torn-tail truncation). */
  size: number;
  fsync: FsyncMode;
  batchMs: number;
  log: Logger;
  /** Called between groups (nothing else is written meanwhile) once the log reached `compactEveryBytes`. */
  compact?: () => Promise<void>;
  compactEveryBytes: number;
}

export class WalWriter {
  readonly #o: WalWriterOptions;
  #queue: Entry[] = [];
  #size: number;
  #draining = false;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #compactAt: number;
  #failed: Error | undefined;
  #idle: Array<() => void> = [];
  /** Groups written (one write + one sync each); for tests and the benchmark notes. */
  syncs = 0;

  constructor(o: WalWriterOptions) {
    this.#o = o;
    this.#size = o.size;
    this.#compactAt = o.compactEveryBytes;
  }

  /** Bytes in the log file now. */
  get size(): number {
    return this.#size;
  }

  get failed(): Error | undefined {
    return this.#failed;
  }

  /**
   * Queues one framed record. `durable`: the promise resolves once it is on disk. Otherwise it
   * resolves at once; the record still goes out in order with the next group.
   */
  append(data: string, durable: boolean): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (!durable) {
      this.#queue.push({ data });
      this.#kick();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ data, done: { resolve, reject } });
      this.#kick();
    });
  }

  /** Resolves once everything queued so far is written and synced (or has failed). */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#scheduled = false;
      void this.#drain();
    }
    if (!this.#draining && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Empties the log (after a snapshot took over its content): truncate and sync. */
  async truncate(): Promise<void> {
    await this.#o.handle.truncate(0);
    await this.#o.handle.datasync();
    this.#size = 0;
  }

  /** Starts a drain unless one runs (it takes the new records with its next group) or is scheduled. */
  #kick(): void {
    if (this.#draining || this.#scheduled) return;
    this.#scheduled = true;
    const go = () => {
      this.#scheduled = false;
      this.#timer = undefined;
      void this.#drain();
    };
    if (this.#o.fsync === 'batch' && this.#o.batchMs > 0) this.#timer = setTimeout(go, this.#o.batchMs);
    else queueMicrotask(go); // records queued in this same tick still share the write
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        const group = this.#takeGroup();
        await this.#writeGroup(group);
        if (this.#o.compact && this.#size >= this.#compactAt && !this.#failed) await this.#compact();
      }
    } finally {
      this.#draining = false;
      if (this.#failed) this.#rejectQueued();
      if (this.#queue.length === 0) for (const r of this.#idle.splice(0)) r();
    }
  }

  /** `batch`: everything queued. `always`: up to and including the first durable record. */
  #takeGroup(): Entry[] {
    if (this.#o.fsync === 'batch') return this.#queue.splice(0);
    const i = this.#queue.findIndex((e) => e.done);
    return this.#queue.splice(0, i < 0 ? this.#queue.length : i + 1);
  }

  async #writeGroup(group: Entry[]): Promise<void> {
    const buf = Buffer.from(group.length === 1 ? group[0]!.data : group.map((e) => e.data).join(''), 'utf8');
    try {
      let off = 0;
      while (off < buf.length) off += (await this.#o.handle.write(buf, off, buf.length - off)).bytesWritten;
      this.#size += buf.length;
      await this.#o.handle.datasync();
      this.syncs++;
    } catch (err) {
      this.#fail(err as Error, group);
      return;
    }
    for (const e of group) e.done?.resolve();
  }

  async #compact(): Promise<void> {
    try {
      await this.#o.compact!();
      this.#compactAt = this.#o.compactEveryBytes;
    } catch (err) {
      this.#compactAt = this.#size + this.#o.compactEveryBytes; // do not retry after every group
      // The log is intact (the snapshot replaced nothing yet, or already holds everything): go on
      // appending; the next group retries.
      this.#o.log.error(
        { event: 'lease-file.compact.error', err },
        `lease file compaction failed: ${(err as Error).message}`,
      );
    }
  }

  #fail(err: Error, group: Entry[]): void {
    this.#failed = new PxeError('PXE_ERR_LEASE_STORE', `lease log write failed: ${err.message}`, {
      cause: err,
      fix: 'check the disk (space, errors in dmesg) and restart pxekit',
    });
    this.#o.log.error(
      { event: 'lease-file.write.error', err },
      'lease log write/sync failed: no more leases can be committed until a restart',
    );
    for (const e of group) e.done?.reject(this.#failed);
  }

  #rejectQueued(): void {
    for (const e of this.#queue.splice(0)) e.done?.reject(this.#failed!);
  }
}
