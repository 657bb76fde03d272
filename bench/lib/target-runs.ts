/**
 * What the DHCP benches (dhcp.ts, dhcp6.ts) do around every measured run of a target: start a server of it,
 * keep its peak RSS, stop it, and for pxekit-file replay its lease log to check that no address was ever
 * given to two clients at once (targets/pxekit-lease-audit.ts); and the rows that come of it.
 */
import type { PxekitDhcpTarget } from '../targets/pxekit-dhcp.js';
import { auditLeaseFile } from '../targets/pxekit-lease-audit.js';
import { startServer, type BaseContext } from './server.js';
import type { RowOf } from './report.js';

// bench/dhcp.ts and bench/dhcp6.ts take the row maker from here.
import type { Row, Target } from './types.js';

export class TargetRuns {
  /** Highest RSS of any of the target's servers so far, in KiB. */
  peakKiB = 0;
  /** Lease-log replays so far (pxekit-file), summed. */
  readonly audit = { runs: 0, records: 0, doubles: 0, problem: undefined as string | undefined };

  constructor(
    readonly target: Target,
    readonly base: BaseContext,
  ) {}

  /** `fn` with a server of the target up; then its peak RSS is kept, it is stopped and its lease log replayed. */
  async withServer<T>(fn: () => Promise<T>): Promise<T> {
    const s = await startServer(this.target, this.base);
    try {
      return await fn();
    } finally {
      this.peakKiB = Math.max(this.peakKiB, s.peakRssKiB());
      await s.stop();
      await this.#replayLeaseLog();
    }
  }

  /** The lease-log replay row, when a log was replayed (pxekit-file). */
  auditRows(row: RowOf): Row[] {
    const a = this.audit;
    if (a.runs === 0) return [];
    const first = a.problem ? `; first: ${a.problem}` : '';
    const note = `${a.records} records replayed from ${a.runs} runs${first}`;
    return [row('addresses given twice (lease log replay)', 'count', a.doubles, note, false)];
  }

  async #replayLeaseLog(): Promise<void> {
    const file = (this.target as Partial<PxekitDhcpTarget>).lastLeaseFile?.();
    if (!file) return;
    const r = await auditLeaseFile(file);
    this.audit.runs++;
    this.audit.records += r.records;
    this.audit.doubles += r.doubleAllocations;
    this.audit.problem ??= r.firstProblem;
  }
}
