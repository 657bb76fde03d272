/**
 * The boot storm's machines, run inside the client namespace by bench/storm.ts:
 *   node --conditions=source --import tsx bench/lib/storm-machines.ts '<StormPlan JSON>'
 * Each machine powers on at a random moment within `spreadMs`, then does what firmware and a
 * loader do: relayed DHCP DORA (retries 1, 2, 4 s), TFTP of the boot file it was given (EDK2's
 * tsize probe first, then blksize 1468), then HTTP of a kernel and an initrd over one keep-alive
 * connection from its leased address, checking every size. Prints one JSON result on stdout.
 */
import { Agent, request } from 'node:http';
import { tftpGet } from '../../test/helpers/tftp-client.js';
import { StormRelay } from './storm-dhcp.js';

export interface StormPlan {
  machines: number;
  spreadMs: number;
  giaddr: string;
  server: string;
  /** HTTP files every machine fetches after TFTP, with their sizes. */
  http: Array<{ path: string; size: number }>;
  /** Expected size of the TFTP boot file. */
  bootFileSize: number;
  /** Bound on one machine's whole boot. */
  machineTimeoutMs: number;
}

export type Stage = 'dhcp' | 'tftp' | 'http';

export interface MachineResult {
  /** ms from the storm's start to power-on, and from power-on to the end of each stage. */
  powerOnMs: number;
  stageMs: Partial<Record<Stage, number>>;
  /** TFTP waits that ran out (probe + transfer): each one cost this machine a timeout. */
  tftpTimeouts: number;
  /** TFTP DATA that was not the next block (server retransmissions). */
  tftpOutOfOrder: number;
  failed?: { stage: Stage; reason: string };
}

export interface StormResult {
  machines: MachineResult[];
  wallMs: number;
  /** CPU (user + system) the machines' process used: client and servers share the CPU. */
  clientCpuMs: number;
}

async function httpGet(agent: Agent, host: string, path: string, timeoutMs: number): Promise<number> {
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

async function bootOne(relay: StormRelay, plan: StormPlan, index: number, t0: number): Promise<MachineResult> {
  const powerOnMs = Math.random() * plan.spreadMs;
  await new Promise((r) => setTimeout(r, powerOnMs));
  const start = performance.now();
  const res: MachineResult = { powerOnMs: Math.round(start - t0), stageMs: {}, tftpTimeouts: 0, tftpOutOfOrder: 0 };
  const mark = (s: Stage) => (res.stageMs[s] = Math.round(performance.now() - start));
  let stage: Stage = 'dhcp';
  try {
    const mac = Buffer.from([0x52, 0x54, 0x00, 0x5e, (index >> 8) & 0xff, index & 0xff]);
    const lease = await relay.dora({ mac, arch: 7, xid: (0x5e000000 + index * 7919) >>> 0 });
    mark('dhcp');
    stage = 'tftp';
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
    res.tftpTimeouts += probe.timeouts;
    res.tftpOutOfOrder += probe.outOfOrder;
    if (probe.error) throw new Error(`tsize probe: TFTP error ${probe.error.code} ${probe.error.message}`);
    const got = await tftpGet({
      ...common,
      options: { blksize: '1468' },
      timeoutMs: 1000,
      retries: 6,
      totalTimeoutMs: plan.machineTimeoutMs,
    });
    res.tftpTimeouts += got.timeouts;
    res.tftpOutOfOrder += got.outOfOrder;
    if (got.error) throw new Error(`TFTP error ${got.error.code} ${got.error.message}`);
    if (got.bytes !== plan.bootFileSize) throw new Error(`boot file ${got.bytes} bytes, expected ${plan.bootFileSize}`);
    mark('tftp');
    stage = 'http';
    const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: lease.address });
    try {
      for (const f of plan.http) {
        const bytes = await httpGet(agent, plan.server, f.path, 30_000);
        if (bytes !== f.size) throw new Error(`${f.path}: ${bytes} bytes, expected ${f.size}`);
      }
    } finally {
      agent.destroy();
    }
    mark('http');
  } catch (e) {
    res.failed = { stage, reason: (e as Error).message };
  }
  return res;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as StormPlan;
  const relay = await StormRelay.open(plan.giaddr, plan.server);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    const machines = await Promise.all(Array.from({ length: plan.machines }, (_, i) => bootOne(relay, plan, i, t0)));
    const cpu = process.cpuUsage(cpu0);
    const clientCpuMs = Math.round((cpu.user + cpu.system) / 1000);
    const result: StormResult = { machines, wallMs: Math.round(performance.now() - t0), clientCpuMs };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    relay.close();
  }
}

await main();
