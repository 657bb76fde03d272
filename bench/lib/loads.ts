/**
 * Client loads run in the client namespace, each bounded: single transfers with curl or
 * atftp, N concurrent curl processes, and the files they fetch.
 */
import {
  closeSync,
  createWriteStream,
  openSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import type { Lan } from '../../test/helpers/realnet.js';

export const MiB = 1 << 20;

export interface Transfer {
  bytes: number;
  ms: number;
  /** MiB/s over the whole run (all transfers for a concurrent load). */
  mibps: number;
  failed: number;
  detail: string;
  /** The server's CPU time (user + system) per DATA block, where the bench measured it (bench/tftp.ts). */
  serverUsPerBlock?: number;
}

/** Random (incompressible) content of `size` bytes at `file`. */
export async function writeRandomFile(file: string, size: number): Promise<void> {
  const out = createWriteStream(file);
  for (let left = size; left > 0; left -= MiB) {
    if (!out.write(randomBytes(Math.min(MiB, left)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * A sparse file of `size` bytes (zeros), read through once so it is in the page cache like a hot file: the
 * first read of a hole allocates and zeroes its pages (~330 MiB/s here), and without this the first target
 * measured paid for it (nginx's first cold 1 GiB row at 320-334 MiB/s in every run before 2026-12-07 03:30).
 */
export function writeSparseFile(file: string, size: number): void {
  writeFileSync(file, '');
  truncateSync(file, size);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 * MiB);
    for (let at = 0; at < size; at += buf.length) readSync(fd, buf, 0, buf.length, at);
  } finally {
    closeSync(fd);
  }
}

const rate = (bytes: number, ms: number) => (ms > 0 ? bytes / MiB / (ms / 1000) : 0);
/** `, HTTP 404` for an HTTP status other than 200/206 (a 404 page is a successful curl with the wrong size). */
const statusNote = (status: string | undefined) =>
  status && status !== '0' && status !== '000' && status !== '200' && status !== '206' ? `, HTTP ${status}` : '';

/** One `curl` download to /dev/null (HTTP or TFTP URL); `extra` e.g. ['--tftp-blksize', '1468']. */
export async function curlOnce(
  lan: Lan,
  url: string,
  expect: number,
  extra: string[] = [],
  timeoutSec = 120,
): Promise<Transfer> {
  const r = await lan.execIn(
    lan.cliNs,
    'curl',
    [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download} %{response_code}',
      '--max-time',
      String(timeoutSec),
      ...extra,
      url,
    ],
    { timeoutMs: (timeoutSec + 10) * 1000 },
  );
  const [size, status] = r.stdout.trim().split(' ');
  const bytes = Number(size) || 0;
  const failed = r.code === 0 && bytes === expect ? 0 : 1;
  return {
    bytes,
    ms: r.elapsedMs,
    mibps: failed ? 0 : rate(bytes, r.elapsedMs),
    failed,
    detail: failed ? `curl exit ${r.code}${statusNote(status)}, ${bytes} of ${expect} bytes` : '',
  };
}

/** One `atftp` download with the given TFTP options (e.g. ['blksize 1468', 'windowsize 8']). */
export async function atftpOnce(
  lan: Lan,
  file: string,
  expect: number,
  options: string[],
  scratch: string,
  timeoutSec = 120,
  port = 69,
): Promise<Transfer> {
  const local = path.join(scratch, `atftp-${process.pid}.out`);
  rmSync(local, { force: true });
  const args = [...options.flatMap((o) => ['--option', o]), '-g', '-r', file, '-l', local, lan.srvAddr, String(port)];
  const r = await lan.execIn(lan.cliNs, 'timeout', [String(timeoutSec), 'atftp', ...args], {
    timeoutMs: (timeoutSec + 10) * 1000,
  });
  let bytes = 0;
  try {
    bytes = statSync(local).size;
  } catch {
    /* no file */
  }
  rmSync(local, { force: true });
  const failed = r.code === 0 && bytes === expect ? 0 : 1;
  return {
    bytes,
    ms: r.elapsedMs,
    mibps: failed ? 0 : rate(bytes, r.elapsedMs),
    failed,
    detail: failed ? `atftp exit ${r.code}, ${bytes} of ${expect} bytes: ${r.stderr.slice(-200)}` : '',
  };
}

/**
 * "each 7.9-12.1 s, p50 8.3 s": the spread of a concurrent load's transfer times. The row's rate is the
 * whole load over its wall, which the slowest transfer sets; this says whether all were slow or one was
 * held up (a lost packet waits out the client's 5 s retransmission timer).
 */
export function spreadNote(seconds: readonly number[]): string {
  const s = seconds.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length < 2) return '';
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `each ${s[0]!.toFixed(1)}-${s[s.length - 1]!.toFixed(1)} s, p50 ${at(0.5)} s, p99 ${at(0.99)} s`;
}

/** `n` curl processes started together in the client namespace; aggregate rate of the successful ones. */
export async function curlConcurrent(
  lan: Lan,
  url: string,
  n: number,
  expect: number,
  extra: string[] = [],
  timeoutSec = 150,
): Promise<Transfer> {
  // One line per curl: "<bytes> <exit code> <status> <seconds> <error message>" (curl >= 7.75 for exitcode/errormsg).
  const curl = [
    'curl',
    '-s',
    '-o',
    '/dev/null',
    '-w',
    "'%{size_download} %{exitcode} %{response_code} %{time_total} %{errormsg}\\n'",
    '--max-time',
    String(timeoutSec),
    ...extra,
    url,
  ].join(' ');
  const script = `for i in $(seq 1 ${n}); do ${curl} & done; wait`;
  const r = await lan.execIn(lan.cliNs, 'bash', ['-c', script], { timeoutMs: (timeoutSec + 20) * 1000 });
  const runs = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [size, code, status, seconds, ...msg] = l.split(' ');
      return { size: Number(size), code, status, seconds: Number(seconds), msg: msg.join(' ') };
    });
  const ok = runs.filter((c) => c.size === expect).length;
  const bytes = ok * expect;
  const failed = n - ok;
  // The most frequent failure, e.g. "curl 69: TFTP: Access Violation" (x184).
  const errors = new Map<string, number>();
  for (const c of runs) {
    const key = `curl ${c.code}${statusNote(c.status)}: ${c.msg}`;
    if (c.size !== expect) errors.set(key, (errors.get(key) ?? 0) + 1);
  }
  const top = [...errors].sort((a, b) => b[1] - a[1])[0];
  const failures = failed ? `${failed} of ${n} failed${top ? `, most: ${top[0].slice(0, 80)} (x${top[1]})` : ''}` : '';
  const detail = [failures, spreadNote(runs.map((c) => c.seconds))].filter(Boolean).join('; ');
  return { bytes, ms: r.elapsedMs, mibps: rate(bytes, r.elapsedMs), failed, detail };
}
