/**
 * The append side of the lease log, with group commit.
 *
 * Records are queued in memory and written by one drain loop, so the log's order is the order in
 * which the store applied the mutations. A durable record's promise resolves only after a write()
 * that contains it AND an fdatasync() that started after that write have both completed:
 *  - `always`: every durable record gets its own write + fdatasync (non-durable records queued
 *    before it ride along in the same write);
 *  - `batch`: a group starts no sooner than `batchMs` after the previous one started; everything
 *    queued until then (or, when the writer was idle longer, until the end of the current I/O round)
 *    goes out in ONE write and ONE fdatasync, after which all their promises resolve. A record waits
 *    at most `batchMs` + the sync in flight + its own sync, an idle server's record only its own sync;
 *    the disk sees at most one flush per `batchMs` under load, not one per lease (each flush costs
 *    far more CPU than the records it carries: a VM's block device exit, the journal), and no
 *    promise resolves before its bytes are on disk.
 * The cheap parts run on the event loop: one buffer per group (reused), one write(2) of it
 * (page-cache copy of a few KiB), and one promise per group shared by its durable records; only
 * the fdatasync, which waits for the disk, goes to libuv's thread pool.
 * Compaction never holds a group back: between two groups the writer may switch to a fresh log
 * (`rotate`, a rename and an open); the snapshot is written beside the appends (see compactor.ts).
 * A failed write or sync is not retried (after a failed fsync the page cache can no longer be
 * trusted): every waiting promise rejects and the writer stays failed until a restart.
 */
import { fdatasync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { PxeError } from 'pxekit';

export type FsyncMode = 'always' | 'batch';

/** Records written together (one write + one fdatasync); `done` exists once a durable record joined. */
interface Group {
  lines: string[];
  done?: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };
}

export interface WalWriterOptions {
  handle: FileHandle;
  /** Bytes already in the log (after load and torn-tail truncation). */
  size: number;
  fsync: FsyncMode;
  batchMs: number;
  log: Logger;
  /**
   * Called between groups (nothing is written meanwhile) once the log reached `compactEveryBytes`:
   * the log to append to from now on, or undefined to keep the current one.
   */
  rotate?: (live: FileHandle) => Promise<FileHandle | undefined>;
  compactEveryBytes: number;
}

const RESOLVED = Promise.resolve();
/** A wait for the group window shorter than this is not worth a timer (node's timers have 1 ms steps). */
const TIMER_MIN_MS = 0.2;

function deferred(): NonNullable<Group['done']> {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A group whose records are all non-durable has no waiter; never an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class WalWriter {
  readonly #o: WalWriterOptions;
  /** The live log (replaced at each rotation). */
  #handle: FileHandle;
  /** Groups not written yet, oldest first (`batch`: at most one). */
  #groups: Group[] = [];
  #size: number;
  #draining = false;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** When the last group was taken (ms, performance clock): the next one waits until batchMs after it. */
  #lastGroupAt = -Infinity;
  #compactAt: number;
  #failed: Error | undefined;
  #idle: Array<() => void> = [];
  /** Waiters of a rotation asked for by `rotateNow` (done at the next gap between groups). */
  #rotationWanted: Array<() => void> = [];
  #buf = Buffer.allocUnsafe(64 << 10);
  /** Groups written (one write + one sync each); for tests and the benchmark notes. */
  syncs = 0;

  constructor(o: WalWriterOptions) {
    this.#o = o;
    this.#handle = o.handle;
    this.#size = o.size;
    this.#compactAt = o.compactEveryBytes;
  }

  /** The log appended to now. */
  get handle(): FileHandle {
    return this.#handle;
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
    let g = this.#groups.at(-1);
    // `always`: a group ends with its first durable record.
    if (!g || (this.#o.fsync === 'always' && g.done)) this.#groups.push((g = { lines: [] }));
    g.lines.push(data);
    this.#kick();
    if (!durable) return RESOLVED;
    return (g.done ??= deferred()).promise;
  }

  /** Resolves once everything queued so far is written and synced (or has failed). */
  flush(): Promise<void> {
    if (this.#timer || this.#immediate) {
      clearTimeout(this.#timer);
      clearImmediate(this.#immediate);
      this.#timer = undefined;
      this.#immediate = undefined;
      this.#scheduled = false;
      void this.#drain();
    }
    if (!this.#draining && this.#groups.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Rotates at the next gap between groups, whatever the log's size; resolves once that was tried. */
  rotateNow(): Promise<void> {
    if (this.#failed || !this.#o.rotate) return Promise.resolve();
    const done = new Promise<void>((r) => this.#rotationWanted.push(r));
    if (!this.#draining) void this.#drain();
    return done;
  }

  /**
   * Starts a drain unless one runs (it takes the new records with its next group) or is scheduled.
   * `batch`: a record that finds the writer idle for batchMs or more is written after the current I/O
   * round (setImmediate: the other requests of one receive batch join it), so an idle server's ACK waits
   * only for its own sync; under load the group waits out the rest of batchMs after the previous one.
   */
  #kick(): void {
    if (this.#draining || this.#scheduled) return;
    this.#scheduled = true;
    const wait = this.#windowLeft();
    if (wait === undefined)
      queueMicrotask(this.#go); // records queued in this same tick still share the write
    else if (wait > TIMER_MIN_MS) this.#timer = setTimeout(this.#go, wait);
    else this.#immediate = setImmediate(this.#go);
  }

  readonly #go = (): void => {
    this.#scheduled = false;
    this.#timer = undefined;
    this.#immediate = undefined;
    void this.#drain();
  };

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while ((this.#groups.length > 0 || this.#rotationWanted.length > 0) && !this.#failed) {
        if (this.#groups.length > 0) {
          await this.#gather();
          await this.#writeGroup(this.#groups.shift()!);
        }
        const due = this.#o.rotate && this.#size >= this.#compactAt;
        if ((due || this.#rotationWanted.length > 0) && !this.#failed) await this.#rotate();
      }
    } finally {
      this.#draining = false;
      for (const r of this.#rotationWanted.splice(0)) r();
      if (this.#failed) this.#rejectQueued();
      if (this.#groups.length === 0) for (const r of this.#idle.splice(0)) r();
    }
  }

  /**
   * `batch`: a group starts no sooner than batchMs after the previous one, so under load records
   * that arrive while a sync runs gather for the rest of the window instead of each short sync
   * starting a group of a few records.
   */
  async #gather(): Promise<void> {
    const wait = this.#windowLeft();
    if (wait === undefined) return;
    if (wait > TIMER_MIN_MS && this.#idle.length === 0) await new Promise((r) => setTimeout(r, wait));
    this.#lastGroupAt = performance.now();
  }

  /** `batch` with a window: ms until the next group may start (<= 0: now); undefined when groups are not spaced. */
  #windowLeft(): number | undefined {
    if (this.#o.fsync !== 'batch' || this.#o.batchMs <= 0) return undefined;
    return this.#lastGroupAt + this.#o.batchMs - performance.now();
  }

  async #writeGroup(group: Group): Promise<void> {
    try {
      const bytes = this.#fill(group.lines);
      let off = 0;
      const fd = this.#handle.fd;
      while (off < bytes) off += writeSync(fd, this.#buf, off, bytes - off);
      this.#size += bytes;
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      this.syncs++;
    } catch (err) {
      this.#fail(err as Error, group);
      return;
    }
    group.done?.resolve();
  }

  /** Copies the group's lines into the reused buffer (grown when a group does not fit); returns the byte count. */
  #fill(lines: readonly string[]): number {
    let n = 0;
    for (const line of lines) {
      // UTF-8 needs at most 3 bytes per UTF-16 unit; measure exactly only when that bound does not fit.
      if (this.#buf.length - n < line.length * 3 && this.#buf.length - n < Buffer.byteLength(line)) {
        const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, n + Buffer.byteLength(line)));
        this.#buf.copy(grown, 0, 0, n);
        this.#buf = grown;
      }
      n += this.#buf.write(line, n);
    }
    return n;
  }

  async #rotate(): Promise<void> {
    const waiters = this.#rotationWanted.splice(0);
    try {
      const fresh = await this.#o.rotate!(this.#handle);
      if (fresh) {
        this.#handle = fresh;
        this.#size = 0;
        this.#compactAt = this.#o.compactEveryBytes;
      } else this.#compactAt = this.#size + this.#o.compactEveryBytes; // a compaction still runs: not after every group
    } catch (err) {
      this.#compactAt = this.#size + this.#o.compactEveryBytes; // do not retry after every group
      // The log is intact and still the live one: go on appending; retried after compactEveryBytes more.
      this.#o.log.error(
        { event: 'lease-file.compact.error', err },
        `lease file compaction failed: ${(err as Error).message}`,
      );
    } finally {
      for (const r of waiters) r();
    }
  }

  #fail(err: Error, group: Group): void {
    this.#failed = new PxeError('PXE_ERR_LEASE_STORE', `lease log write failed: ${err.message}`, {
      cause: err,
      fix: 'check the disk (space, errors in dmesg) and restart pxekit',
    });
    this.#o.log.error(
      { event: 'lease-file.write.error', err },
      'lease log write/sync failed: no more leases can be committed until a restart',
    );
    group.done?.reject(this.#failed);
  }

  #rejectQueued(): void {
    for (const g of this.#groups.splice(0)) g.done?.reject(this.#failed!);
  }
}
