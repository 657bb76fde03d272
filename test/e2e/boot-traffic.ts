/**
 * Per boot: how many bytes pxekit sent over TFTP and HTTP, in how many transfers, and how long they took,
 * read from pxekit's `tftp.done` and `http.request` log lines (docs/log-events.md). Used by the Linux-boot
 * tests (printed in the test log) and by `npm run bench:boot`.
 */
import type { LogLine } from './pxekit-proc.js';

export interface ProtocolTraffic {
  files: number;
  bytes: number;
  /** Sum of the transfers' own durations (ms); transfers of one boot run one after another. */
  ms: number;
  /** The largest transfer: path, bytes, ms. */
  largest?: { path: string; bytes: number; ms: number };
}

export interface BootTraffic {
  tftp: ProtocolTraffic;
  http: ProtocolTraffic;
}

function add(t: ProtocolTraffic, p: string, bytes: number, ms: number): void {
  t.files++;
  t.bytes += bytes;
  t.ms += ms;
  if (!t.largest || bytes > t.largest.bytes) t.largest = { path: p, bytes, ms };
}

/** Traffic of the completed transfers in `logs` (one guest at a time: all of them are that guest's). */
export function bootTraffic(logs: readonly LogLine[]): BootTraffic {
  const out: BootTraffic = { tftp: { files: 0, bytes: 0, ms: 0 }, http: { files: 0, bytes: 0, ms: 0 } };
  for (const l of logs) {
    if (l.event === 'tftp.done') add(out.tftp, String(l['path']), Number(l['bytes']), Number(l['durationMs']));
    else if (l.event === 'http.request' && l['method'] === 'GET' && Number(l['status']) < 300)
      add(out.http, String(l['path']), Number(l['bytes']), Number(l['ms']));
  }
  return out;
}

const mib = (b: number) => (b / 1048576).toFixed(1);

function line(name: string, t: ProtocolTraffic): string {
  if (!t.files) return `${name} none`;
  const rate = t.ms > 0 ? ` = ${mib((t.bytes / t.ms) * 1000)} MiB/s` : '';
  const big = t.largest ? `; largest ${t.largest.path} ${mib(t.largest.bytes)} MiB in ${t.largest.ms} ms` : '';
  return `${name} ${t.files} files ${mib(t.bytes)} MiB in ${(t.ms / 1000).toFixed(1)} s${rate}${big}`;
}

/** One line for the test log, e.g. `TFTP 5 files 8.1 MiB in 3.2 s = 2.5 MiB/s; …  |  HTTP none`. */
export function formatTraffic(t: BootTraffic): string {
  return `${line('TFTP', t.tftp)}  |  ${line('HTTP', t.http)}`;
}
