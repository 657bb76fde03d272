/**
 * After a bench run on pxekit's lease file: replays the snapshot and the log segments in order and counts
 * every record that gave an address to a client while another client's offer or lease on it was
 * still live — a double allocation. The final maps can never show one (one record per address),
 * the history can.
 */
import { compactingFile, readLog, readSnapshot } from '../../plugins/lease-file/files.js';

export interface LeaseAudit {
  records: number;
  /** Distinct addresses ever bound. */
  bound: number;
  /** Records that took a live address from another client. */
  doubleAllocations: number;
  firstProblem?: string;
}

export async function auditLeaseFile(file: string): Promise<LeaseAudit> {
  const snap = await readSnapshot(`${file}.snapshot`);
  // A compaction cut short leaves its older segment beside the log (none after a clean stop).
  const records = [...(await readLog(compactingFile(file))).records, ...(await readLog(file)).records];
  const cur = new Map<string, { mac: string; state: string; expiresAt: number }>();
  const everBound = new Set<string>();
  const audit: LeaseAudit = { records: 0, bound: 0, doubleAllocations: 0 };
  for (const l of snap.leases) cur.set(l.ip, l);
  for (const { q, l } of records) {
    if (q <= snap.q) continue;
    audit.records++;
    const prev = cur.get(l.ip);
    const takes = l.state === 'offered' || l.state === 'bound';
    if (takes && prev && prev.mac !== l.mac && prev.state !== 'released' && prev.expiresAt > l.updatedAt) {
      audit.doubleAllocations++;
      audit.firstProblem ??=
        `${l.ip}: ${l.state} to ${l.mac} at ${l.updatedAt} while ${prev.state} to ` +
        `${prev.mac || '(declined)'} until ${prev.expiresAt}`;
    }
    if (l.state === 'bound') everBound.add(l.ip);
    cur.set(l.ip, l);
  }
  audit.bound = everBound.size;
  return audit;
}
