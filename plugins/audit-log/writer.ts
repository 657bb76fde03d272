import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { GENESIS, sealLine, sha256Hex } from 'pxekit/kit';
import type { AuditRecord } from './record.js';
import { readChainTail } from './chain-tail.js';
import { DropOldestQueue } from './ring.js';

export interface AuditWriterOptions {
  file: string;
  fsyncIntervalMs: number;
  rotateBytes: number;
  keep: number;
  queueSize: number;
  retryIntervalMs: number;
  log: Logger;
}

/** Errors that mean "no room": keep booting, count what is lost, retry later. */
const NO_SPACE = new Set(['ENOSPC', 'EFBIG', 'EDQUOT']);
const BATCH = 256;

/**
 * Appends chained audit records to one file without ever blocking the caller: `push` only queues
 * (bounded, drop-oldest); a single async loop writes batches through one FileHandle, fsyncs on an
 * interval, rotates by size. A failed write (disk full, I/O error) starts an "episode": logged once
 * (`audit.write.failed`, PXE_ERR_AUDIT_WRITE), records counted as lost, retried every
 * `retryIntervalMs`; when a write succeeds again an `audit.gap` record carrying `lost` is written first.
 */
export class AuditWriter {
  readonly #o: AuditWriterOptions;
  readonly #queue: DropOldestQueue<AuditRecord>;
  #fh: FileHandle | undefined;
  #size = 0;
  #seq = 0;
  #prev = '';
  #lost = 0;
  #dirty = false;
  #opened = false;
  #closed = false;
  #running: Promise<void> | undefined;
  #episode: { code: string; since: number; lost: number } | undefined;
  #overflowing = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #fsyncTimer: NodeJS.Timeout | undefined;
  #written = 0;

  constructor(opts: AuditWriterOptions) {
    this.#o = opts;
    this.#queue = new DropOldestQueue(opts.queueSize);
  }

  /** Records written since start, and records lost (overflow or failed writes) not yet reported. */
  get stats(): { written: number; lost: number; queued: number; failing: boolean } {
    return {
      written: this.#written,
      lost: this.#lost,
      queued: this.#queue.length,
      failing: this.#episode !== undefined,
    };
  }

  /** Continues the chain of an existing file (or starts one) and opens it for appending. */
  async open(): Promise<void> {
    try {
      await mkdir(dirname(this.#o.file), { recursive: true });
      const tail = await readChainTail(this.#o.file);
      this.#seq = tail.seq;
      this.#prev = tail.prev;
      if (tail.unreadable)
        this.#o.log.warn(
          { event: 'audit.chain.unreadable', file: this.#o.file, torn: tail.torn },
          'the audit file ends in a line that is not a valid record; new records chain from it, and verify will report it',
        );
      await this.#openHandle();
      if (tail.torn) await this.#writeAll(Buffer.from('\n'));
    } catch (err) {
      // A full disk at start is an episode like any other: boot, count, retry. Anything else is a setup error.
      if (!NO_SPACE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      this.#prev ||= GENESIS;
      this.#opened = true;
      await this.#failed(err as NodeJS.ErrnoException, 0);
      return;
    }
    this.#opened = true;
    this.#startFsync();
    this.#kick();
  }

  #startFsync(): void {
    if (this.#o.fsyncIntervalMs > 0 && !this.#fsyncTimer) {
      this.#fsyncTimer = setInterval(() => void this.#sync(), this.#o.fsyncIntervalMs);
      this.#fsyncTimer.unref();
    }
  }

  /** Queues a record. Synchronous and O(1): safe on the packet path. */
  push(rec: AuditRecord): void {
    if (this.#closed) return;
    if (this.#queue.push(rec)) {
      this.#lost++;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#o.log.warn(
          { event: 'audit.queue.overflow', queueSize: this.#o.queueSize },
          'audit queue full: dropping the oldest records (the next written record carries "lost")',
        );
      }
    }
    this.#kick();
  }

  /** Writes everything queued (unless writes are failing), then fsyncs. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#queue.length && this.#opened && !this.#episode) {
      this.#kick();
      while (this.#running) await this.#running;
    }
    await this.#sync();
  }

  /** Flushes (one last try even mid-episode), then closes the file. */
  async close(): Promise<{ head: string; seq: number; lost: number }> {
    this.#closed = true;
    clearInterval(this.#fsyncTimer);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    while (this.#running) await this.#running;
    if (this.#opened && (this.#queue.length || this.#lost)) {
      this.#running = this.#drain();
      await this.#running;
      this.#running = undefined;
    }
    await this.#sync();
    const lost = this.#lost + this.#queue.length;
    await this.#fh?.close().catch(() => undefined);
    this.#fh = undefined;
    return { head: this.#prev, seq: this.#seq, lost };
  }

  #kick(): void {
    if (this.#running || !this.#opened || this.#retryTimer || this.#queue.length === 0) return;
    // Start on the next turn, so events of one tick are written as one batch.
    this.#running = new Promise<void>((r) => setImmediate(r))
      .then(() => this.#drain())
      .finally(() => {
        this.#running = undefined;
        if (!this.#closed) this.#kick();
      });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 || (this.#episode && this.#lost > 0)) {
      const batch: AuditRecord[] = [];
      if (this.#episode)
        batch.push({
          time: new Date().toISOString(),
          type: 'audit.gap',
          protocol: 'server',
          outcome: 'error',
          data: {
            code: this.#episode.code,
            since: new Date(this.#episode.since).toISOString(),
            reason: 'records were lost while the audit file could not be written',
          },
        });
      if (!this.#fh) {
        // Before sealing: opening may learn where the chain continues.
        try {
          await this.#openHandle();
        } catch (err) {
          await this.#failed(err as NodeJS.ErrnoException, 0);
          return;
        }
      }
      batch.push(...this.#queue.take(BATCH - batch.length));
      let seq = this.#seq;
      let prev = this.#prev;
      const lines: Buffer[] = [];
      const hashes: string[] = [];
      batch.forEach((rec, i) => {
        const line = sealLine(rec, ++seq, prev, i === 0 ? this.#lost : undefined);
        prev = sha256Hex(line);
        hashes.push(prev);
        lines.push(Buffer.from(`${line}\n`, 'utf8'));
      });
      let done = 0;
      try {
        // Rotation happens at a line boundary, before the line that would cross rotateBytes.
        while (done < lines.length) {
          if (!this.#fh) await this.#openHandle();
          if (this.#size > 0 && this.#size + lines[done]!.length > this.#o.rotateBytes) await this.#rotate();
          let n = 0;
          let bytes = this.#size;
          while (done + n < lines.length && (n === 0 || bytes + lines[done + n]!.length <= this.#o.rotateBytes))
            bytes += lines[done + n++]!.length;
          await this.#writeAll(Buffer.concat(lines.slice(done, done + n)));
          this.#commit(n, hashes[done + n - 1]!);
          done += n;
        }
      } catch (err) {
        const gap = this.#episode && done === 0 ? 1 : 0;
        await this.#failed(err as NodeJS.ErrnoException, batch.length - done - gap);
        return;
      }
      if (this.#o.fsyncIntervalMs === 0) await this.#sync();
    }
  }

  /** `n` lines are on disk: advance the chain past them. */
  #commit(n: number, lastHash: string): void {
    this.#seq += n;
    this.#prev = lastHash;
    this.#written += n;
    this.#dirty = true;
    this.#overflowing = false;
    this.#lost = 0;
    if (this.#episode) {
      this.#o.log.warn(
        { event: 'audit.write.resumed', since: this.#episode.since, code: this.#episode.code },
        'audit log writable again; the loss is recorded in the log (an "audit.gap" record with "lost")',
      );
      this.#episode = undefined;
    }
  }

  /** Counts the batch as lost, rolls back a partial line, logs once per episode, schedules a retry. */
  async #failed(err: NodeJS.ErrnoException, records: number): Promise<void> {
    this.#lost += records;
    const code = err.code ?? 'EIO';
    if (this.#fh) await this.#fh.truncate(this.#size).catch(() => undefined);
    if (!this.#episode) {
      this.#episode = { code, since: Date.now(), lost: 0 };
      const diskFull = NO_SPACE.has(code);
      this.#o.log.error(
        { event: 'audit.write.failed', code: 'PXE_ERR_AUDIT_WRITE', errno: code, err, file: this.#o.file },
        diskFull
          ? 'audit log: disk full; booting goes on, records are counted as lost and writing is retried'
          : 'audit log: write failed; booting goes on, records are counted as lost and writing is retried',
      );
    }
    if (this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#kickRetry();
    }, this.#o.retryIntervalMs);
    this.#retryTimer.unref();
  }

  /** A retry runs even with an empty queue, so the gap record is written as soon as space is back. */
  #kickRetry(): void {
    if (this.#running || this.#closed) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (!this.#closed) this.#kick();
    });
  }

  async #openHandle(): Promise<void> {
    if (this.#seq === 0 && this.#prev === GENESIS) {
      // Nothing written yet (or start-up hit a full disk before the tail was read): continue the file's chain.
      const tail = await readChainTail(this.#o.file);
      if (tail.seq > 0) {
        this.#seq = tail.seq;
        this.#prev = tail.prev;
      }
    }
    this.#fh = await open(this.#o.file, 'a', 0o640);
    this.#size = (await this.#fh.stat()).size;
    this.#startFsync();
  }

  async #writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.#fh!.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
    this.#size += buf.length;
  }

  /** FILE → FILE.1 → … → FILE.keep (the oldest is replaced). The chain continues in the new file. */
  async #rotate(): Promise<void> {
    const f = this.#o.file;
    const fh = this.#fh;
    this.#fh = undefined;
    if (fh) {
      await fh.datasync().catch(() => undefined);
      await fh.close();
    }
    for (let i = this.#o.keep - 1; i >= 1; i--) {
      await rename(`${f}.${i}`, `${f}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await rename(f, `${f}.1`);
    this.#dirty = false;
    this.#o.log.info({ event: 'audit.rotated', file: f, keep: this.#o.keep, seq: this.#seq }, 'audit log rotated');
    await this.#openHandle();
  }

  async #sync(): Promise<void> {
    if (!this.#dirty || !this.#fh) return;
    this.#dirty = false;
    try {
      await this.#fh.datasync();
    } catch (err) {
      this.#dirty = true;
      this.#o.log.debug({ event: 'audit.fsync.failed', err }, 'audit fsync failed');
    }
  }
}
