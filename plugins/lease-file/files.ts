/**
 * Reading and writing the lease file's parts: the snapshot (`<path>.snapshot`, written whole by
 * compaction and renamed into place), the log (`<path>`, appended record by record) and, while a
 * compaction runs, the log segment it is folding into the snapshot (`<path>.compacting`, read
 * before `<path>`).
 *
 * On start the snapshot must be perfect (an atomic rename never leaves half a file), and so must
 * every log line except a torn tail: the bytes after the last complete record, left by a crash
 * during an append that was never acknowledged. Those are cut off with a warning; a bad record
 * with good records after it is corruption and stops start-up (PXE_ERR_LEASE_STORE, file and line).
 */
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { PxeError } from 'pxekit';
import type { Lease } from 'pxekit/kit';
import { asLease, asLogRecord, asSnapshotHeader, frame, unframe, type LogRecord } from './record.js';

export interface TornTail {
  line: number;
  bytes: number;
  reason: string;
}

export interface LogContent {
  records: LogRecord[];
  /** Byte length of the valid part (where appends continue). */
  validBytes: number;
  torn?: TornTail;
}

const corrupt = (file: string, line: number, reason: string) =>
  new PxeError('PXE_ERR_LEASE_STORE', `lease file ${file} is corrupt at line ${line}: ${reason}`, {
    fix:
      'restore the file from a backup, or (after checking what is lost) cut the file before ' +
      'that line; pxekit never guesses past a corrupt record',
    details: { file, line, reason },
  });

/** The log segment a compaction moved aside (records older than every record in `<path>`). */
export const compactingFile = (file: string): string => `${file}.compacting`;

/** The snapshot's last sequence number and leases; `{ q: 0, leases: [] }` when there is none. */
export async function readSnapshot(file: string): Promise<{ q: number; leases: Lease[] }> {
  const text = await readIfExists(file);
  if (text === undefined) return { q: 0, leases: [] };
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw corrupt(file, lines.length, 'the snapshot does not end with a newline (incomplete)');
  lines.pop();
  const first = lines[0] === undefined ? undefined : unframe(lines[0]);
  const header = first && 'value' in first ? asSnapshotHeader(first.value) : undefined;
  if (!header) throw corrupt(file, 1, first && 'error' in first ? first.error : 'no snapshot header');
  if (lines.length - 1 !== header.n)
    throw corrupt(file, lines.length, `the header announces ${header.n} leases, the file has ${lines.length - 1}`);
  const leases: Lease[] = [];
  for (let i = 1; i < lines.length; i++) {
    const r = unframe(lines[i]!);
    const lease = 'value' in r ? asLease(r.value) : undefined;
    if (!lease) throw corrupt(file, i + 1, 'error' in r ? r.error : 'not a lease record');
    leases.push(lease);
  }
  return { q: header.q, leases };
}

/** The log's records in order, the valid length, and the torn tail if the last append was cut. */
export async function readLog(file: string): Promise<LogContent> {
  const buf = await readBufferIfExists(file);
  if (!buf) return { records: [], validBytes: 0 };
  const records: LogRecord[] = [];
  let off = 0;
  let line = 0;
  let prevQ = 0;
  while (off < buf.length) {
    line++;
    const nl = buf.indexOf(0x0a, off);
    const end = nl < 0 ? buf.length : nl;
    const parsed = nl < 0 ? { error: 'no newline (the append was cut)' } : unframe(buf.toString('utf8', off, end));
    const rec = 'value' in parsed ? asLogRecord(parsed.value) : undefined;
    const reason =
      'error' in parsed
        ? parsed.error
        : !rec
          ? 'not a lease record'
          : rec.q <= prevQ
            ? `sequence ${rec.q} after ${prevQ}`
            : undefined;
    if (reason !== undefined) {
      if (hasRecordAfter(buf, nl < 0 ? buf.length : nl + 1)) throw corrupt(file, line, reason);
      return { records, validBytes: off, torn: { line, bytes: buf.length - off, reason } };
    }
    records.push(rec!);
    prevQ = rec!.q;
    off = nl + 1;
  }
  return { records, validBytes: off };
}

/** True when a complete, valid record follows `from` (then a bad line before it is not a torn tail). */
function hasRecordAfter(buf: Buffer, from: number): boolean {
  let off = from;
  while (off < buf.length) {
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0) return false;
    const r = unframe(buf.toString('utf8', off, nl));
    if ('value' in r && asLogRecord(r.value)) return true;
    off = nl + 1;
  }
  return false;
}

/** Where a snapshot write is (a test seam: a test holds a step, or copies the files there as a crash would leave them). */
export type SnapshotStep = 'snapshot.written' | 'snapshot.synced' | 'snapshot.renamed';
export type StepHook<S extends string> = (step: S) => void | Promise<void>;

/**
 * Writes a snapshot atomically: a temp file, fsync, rename over the old one, fsync the folder (so
 * the rename itself survives a power cut). Only then may the caller drop the log it replaces. The
 * leases are framed and written 256 KiB at a time, so the event loop is never held long.
 */
export async function writeSnapshot(
  file: string,
  q: number,
  leases: readonly Lease[],
  onStep?: StepHook<SnapshotStep>,
): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    const chunk: string[] = [frame({ v: 1, q, n: leases.length })];
    let pending = chunk[0]!.length;
    for (const l of leases) {
      const s = frame(l);
      chunk.push(s);
      pending += s.length;
      if (pending > 256 << 10) {
        await fh.write(chunk.splice(0).join(''));
        pending = 0;
      }
    }
    if (chunk.length) await fh.write(chunk.join(''));
    await onStep?.('snapshot.written');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await onStep?.('snapshot.synced');
  await fsp.rename(tmp, file);
  await onStep?.('snapshot.renamed');
  await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  return (await readBufferIfExists(file))?.toString('utf8');
}

async function readBufferIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
