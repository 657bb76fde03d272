/** Turns the storm machines' results into what the table reports: failures by stage and percentiles. */
import type { StormResult } from './storm-machines.js';

export interface StormSummary {
  /** From the first power-on to the last machine's last byte (failed machines excluded). */
  wallMs: number;
  /**
   * When each booted machine had its last byte, ms from the first power-on, ascending: `[k - 1]` is the
   * time to k machines booted (timeToBooted), comparable between stacks that booted different numbers.
   */
  bootedAtMs: number[];
  failed: number;
  /** e.g. "dhcp 3 (no OFFER), tftp 1 (...)" */
  failedNote: string;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Median time each stage took, e.g. "DHCP 0.03 s, TFTP 1.2 s, HTTP 9.8 s". */
  stagesNote: string;
  /** TFTP timeouts of all machines together, and how many machines had at least one. */
  tftpTimeouts: number;
  machinesWithTftpTimeouts: number;
  /** DATA packets the machines got out of order (duplicates): the server retransmitted. */
  tftpOutOfOrder: number;
  clientCpuMs: number;
  /** Threads the machines' TFTP and HTTP ran on. */
  workers: number;
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarizeStorm(r: StormResult): StormSummary {
  const done = r.machines.filter((m) => !m.failed && m.stageMs.http !== undefined);
  const totals = done.map((m) => m.stageMs.http!).sort((a, b) => a - b);
  const span = (f: (m: (typeof done)[number]) => number) =>
    percentile(
      done.map(f).sort((a, b) => a - b),
      50,
    );
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const stagesNote =
    `median DHCP ${sec(span((m) => m.stageMs.dhcp!))}, ` +
    `TFTP ${sec(span((m) => m.stageMs.tftp! - m.stageMs.dhcp!))}, ` +
    `HTTP ${sec(span((m) => m.stageMs.http! - m.stageMs.tftp!))}`;
  const firstOn = Math.min(...r.machines.map((m) => m.powerOnMs));
  const bootedAtMs = done.map((m) => m.powerOnMs + m.stageMs.http! - firstOn).sort((a, b) => a - b);
  const byStage = new Map<string, { n: number; reason: string }>();
  for (const m of r.machines) {
    if (!m.failed) continue;
    const e = byStage.get(m.failed.stage) ?? { n: 0, reason: m.failed.reason };
    e.n++;
    byStage.set(m.failed.stage, e);
  }
  return {
    wallMs: done.length ? bootedAtMs[bootedAtMs.length - 1]! : r.wallMs,
    bootedAtMs,
    failed: r.machines.length - done.length,
    failedNote: [...byStage].map(([stage, e]) => `${stage} ${e.n} (${e.reason.slice(0, 60)})`).join(', '),
    p50Ms: percentile(totals, 50),
    p95Ms: percentile(totals, 95),
    p99Ms: percentile(totals, 99),
    stagesNote,
    tftpTimeouts: r.machines.reduce((a, m) => a + (m.tftpTimeouts ?? 0), 0),
    machinesWithTftpTimeouts: r.machines.filter((m) => (m.tftpTimeouts ?? 0) > 0).length,
    tftpOutOfOrder: r.machines.reduce((a, m) => a + (m.tftpOutOfOrder ?? 0), 0),
    clientCpuMs: r.clientCpuMs ?? 0,
    workers: r.workers ?? 1,
  };
}

/** ms from the first power-on until `k` machines had booted; undefined when fewer than `k` did. */
export function timeToBooted(s: Pick<StormSummary, 'bootedAtMs'>, k: number): number | undefined {
  return k >= 1 && k <= s.bootedAtMs.length ? s.bootedAtMs[k - 1] : undefined;
}

/** Middle value (upper middle for an even count) of `values`; 0 when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
}
