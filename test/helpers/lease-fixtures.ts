/** Lease writes, numbered clients and store set-up for the lease-file store's tests (plugins/lease-file/*.test.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import pino from 'pino';
import type { LeaseWrite } from 'pxekit/kit';
import { FileLeaseStore, type FileLeaseStoreOptions } from '../../plugins/lease-file/file-store.js';

export const SUBNET = '10.0.0.0/16';
/** A lease write for `mac` on `ip` in SUBNET. */
export const w = (mac: string, ip: string, expiresAt: number): LeaseWrite => ({ mac, ip, expiresAt, subnet: SUBNET });
/** Client number `i`'s address and MAC (distinct for i < 65,536). */
export const ipOf = (i: number) => `10.0.${(i >> 8) & 255}.${i & 255}`;
export const macOf = (i: number) =>
  `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

/** A logger that writes nothing. */
export const silent = pino({ level: 'silent' });

/** A fresh temporary folder, removed after the test. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'pxk-lease-file-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Stores left open on purpose (a "crash": the next store reads the file as it is); closed at exit. */
const leftOpen: FileLeaseStore[] = [];
after(async () => {
  for (const s of leftOpen) await s.close().catch(() => undefined);
});

/** Closes `s` when the test file ends, if the test did not. */
export function closeAtExit(s: FileLeaseStore): void {
  leftOpen.push(s);
}

/** A loaded FileLeaseStore on `file` (batch fsync every 2 ms, compaction at 16 MiB unless `o` says else). */
export async function openStore(file: string, o: Partial<FileLeaseStoreOptions> = {}): Promise<FileLeaseStore> {
  const s = new FileLeaseStore({ file, fsync: 'batch', batchMs: 2, compactEveryBytes: 16 << 20, log: silent, ...o });
  await s.load();
  closeAtExit(s);
  return s;
}
