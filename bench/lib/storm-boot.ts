/**
 * What a simulated machine does after its lease, run in a worker thread of bench/lib/storm-machines.ts
 * so the machines can use every core (one thread would be the storm's bottleneck, not the servers):
 * TFTP of the boot file the ACK named (EDK2's tsize probe first, then blksize 1468), then HTTP of a
 * kernel and an initrd over one keep-alive connection from the leased address, checking every size.
 */
import { Agent, request } from 'node:http';
import { parentPort } from 'node:worker_threads';
import { tftpGet } from '../../test/helpers/tftp-client.js';
import type { Lease } from './storm-dhcp.js';

/** A leased machine handed to a worker; `startMs` is its power-on (epoch ms, comparable across threads). */
export interface BootJob {
  index: number;
  lease: Lease;
  startMs: number;
  http: Array<{ path: string; size: number }>;
  bootFileSize: number;
  machineTimeoutMs: number;
}

export interface BootOutcome {
  index: number;
  /** ms from power-on to the end of TFTP and of HTTP. */
  tftpMs?: number;
  httpMs?: number;
  tftpTimeouts: number;
  tftpOutOfOrder: number;
  failed?: { stage: 'tftp' | 'http'; reason: string };
}

/** Milliseconds since the epoch at sub-ms resolution, the same clock in every thread. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

function httpGet(agent: Agent, host: string, path: string, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host, port: 80, path, agent, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP ${path}: no progress for ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function bootLeased(job: BootJob, server: string): Promise<BootOutcome> {
  const out: BootOutcome = { index: job.index, tftpTimeouts: 0, tftpOutOfOrder: 0 };
  let stage: 'tftp' | 'http' = 'tftp';
  try {
    const { lease } = job;
    if (!lease.bootFile) throw new Error('no boot file in the ACK');
    const common = { port: 69, host: lease.nextServer, file: lease.bootFile, localAddress: lease.address };
    // EDK2 asks for the size first and aborts after the OACK, then fetches for real.
    const probe = await tftpGet({
      ...common,
      options: { tsize: '0', blksize: '1468' },
      abortAfterOack: { code: 8, message: 'size probe' },
      timeoutMs: 1000,
      retries: 4,
      totalTimeoutMs: 20_000,
    });
    out.tftpTimeouts += probe.timeouts;
    out.tftpOutOfOrder += probe.outOfOrder;
    if (probe.error) throw new Error(`tsize probe: TFTP error ${probe.error.code} ${probe.error.message}`);
    const got = await tftpGet({
      ...common,
      options: { blksize: '1468' },
      timeoutMs: 1000,
      retries: 6,
      totalTimeoutMs: job.machineTimeoutMs,
    });
    out.tftpTimeouts += got.timeouts;
    out.tftpOutOfOrder += got.outOfOrder;
    if (got.error) throw new Error(`TFTP error ${got.error.code} ${got.error.message}`);
    if (got.bytes !== job.bootFileSize) throw new Error(`boot file ${got.bytes} bytes, expected ${job.bootFileSize}`);
    out.tftpMs = Math.round(nowMs() - job.startMs);
    stage = 'http';
    const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: lease.address });
    try {
      for (const f of job.http) {
        const bytes = await httpGet(agent, server, f.path, 30_000);
        if (bytes !== f.size) throw new Error(`${f.path}: ${bytes} bytes, expected ${f.size}`);
      }
    } finally {
      agent.destroy();
    }
    out.httpMs = Math.round(nowMs() - job.startMs);
  } catch (e) {
    out.failed = { stage, reason: (e as Error).message };
  }
  return out;
}

// In a worker: boot every job the main thread hands over, answer with its outcome.
if (parentPort) {
  const port = parentPort;
  port.on('message', (m: { server: string; job: BootJob }) => {
    void bootLeased(m.job, m.server).then((o) => port.postMessage(o));
  });
  port.postMessage('ready');
}
