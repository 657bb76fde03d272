/**
 * Compaction beside appends (log rotation). Between two groups the writer asks for a rotation: the
 * log is renamed to `<path>.compacting`, a fresh `<path>` is opened and the folder synced, and appends
 * go on there at once. The leases as of that instant (every record up to sequence `q`) are then
 * written to a new snapshot in the background (temp file, fsync, rename, folder fsync); only then is
 * the old segment removed.
 *
 * Start-up reads the snapshot, `<path>.compacting`, then `<path>`, skipping records at or below the
 * snapshot's `q`, so a crash at any step loads the same leases: before the snapshot's rename the old
 * snapshot + both segments hold everything; after it the new snapshot holds everything up to `q` and
 * `<path>` everything after. A segment left over that way is folded into a snapshot at start-up.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Lease } from 'pxekit/kit';
import { compactingFile, syncDir, writeSnapshot, type SnapshotStep, type StepHook } from './files.js';

/** The steps of one compaction, in order (a test seam: hold one, or copy the files there as a crash would leave them). */
export type CompactionStep = 'log.moved' | 'log.opened' | SnapshotStep | 'segment.removed';

/** The store's state at the rotation point: its last sequence number and every lease. */
export interface Capture {
  q: number;
  leases: Lease[];
}

export interface CompactorOptions {
  file: string;
  log: Logger;
  onStep?: StepHook<CompactionStep>;
}

export class Compactor {
  readonly #o: CompactorOptions;
  #running: Promise<void> | undefined;
  /** `<path>.compacting` exists beside the live log (a compaction failed after its rotation). */
  #leftover = false;
  /** A failed rotation could not put the live log back under its name: no more compactions until a restart. */
  #stuck: Error | undefined;

  constructor(o: CompactorOptions) {
    this.#o = o;
  }

  get snapshotFile(): string {
    return `${this.#o.file}.snapshot`;
  }

  /** Resolves once no compaction runs. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /**
   * Called by the writer between groups (nothing is written meanwhile). Returns the new live log, or
   * undefined when the writer keeps its log (a compaction still runs, or a leftover segment is folded
   * first). `capture` is called once the new log is in place: later records all go to it.
   */
  async rotate(live: FileHandle, capture: () => Capture): Promise<FileHandle | undefined> {
    if (this.#running) return undefined;
    if (this.#stuck) throw this.#stuck;
    if (this.#leftover) {
      // The live log stays; the snapshot covers it up to now (those records are skipped by q).
      this.#start(capture(), undefined);
      return undefined;
    }
    const { file } = this.#o;
    const old = compactingFile(file);
    await fsp.rename(file, old);
    let fresh: FileHandle | undefined;
    try {
      await this.#o.onStep?.('log.moved');
      fresh = await fsp.open(file, 'a+', 0o600);
      // The rename and the new log's entry must survive a power cut before any ACK comes from it.
      await syncDir(path.dirname(file));
    } catch (err) {
      await fresh?.close().catch(() => undefined);
      // Put the live log back under its name, so no record goes to a segment a compaction would drop.
      await fsp.rename(old, file).catch((e: Error) => {
        // Appends go on to the log handle already open; only compaction stops. Start-up reads both names.
        this.#stuck = new Error(
          `${old} could not be renamed back to ${file}: ${e.message}. Leases are still written (to ${old}) ` +
            `but no longer compacted: fix the folder (free space, permissions) and restart pxekit`,
        );
      });
      throw err;
    }
    await this.#o.onStep?.('log.opened');
    this.#start(capture(), live);
    return fresh;
  }

  /** At start-up: a segment left by a compaction cut short is folded into a snapshot of the loaded state. */
  async foldLeftover(capture: Capture): Promise<boolean> {
    try {
      await fsp.access(compactingFile(this.#o.file));
    } catch {
      return false;
    }
    this.#leftover = true;
    this.#start(capture, undefined);
    await this.idle();
    return true;
  }

  #start(c: Capture, old: FileHandle | undefined): void {
    const { file, log, onStep } = this.#o;
    const started = Date.now();
    this.#running = (async () => {
      await old?.close();
      await writeSnapshot(this.snapshotFile, c.q, c.leases, onStep);
      // Not synced: should the removal be lost in a power cut, every record in it is skipped by q.
      await fsp.rm(compactingFile(file), { force: true });
      this.#leftover = false;
      await onStep?.('segment.removed');
      log.info(
        { event: 'lease-file.compacted', file, leases: c.leases.length, seq: c.q, durationMs: Date.now() - started },
        `lease file compacted: ${c.leases.length} leases`,
      );
    })()
      .catch((err: Error) => {
        this.#leftover = true; // the old segment stays; the next compaction folds it
        log.error(
          { event: 'lease-file.compact.error', err },
          `lease file compaction failed: ${err.message} (appends go on; retried after compactEveryBytes more)`,
        );
      })
      .finally(() => {
        this.#running = undefined;
      });
  }
}
