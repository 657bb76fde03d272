/**
 * The boot storm's machines, run inside the client namespace by bench/storm.ts:
 *   node --conditions=source --import tsx bench/lib/storm-machines.ts '<StormPlan JSON>'
 * Each machine powers on at a random moment within `spreadMs`, then does what firmware and a
 * loader do: relayed DHCP DORA (retries 1, 2, 4 s) on this thread's relay socket, then TFTP and HTTP
 * from its leased address in one of `workers` worker threads (bench/lib/storm-boot.ts), so the
 * simulated machines can use every core: on one thread they were the storm's bottleneck (a whole core
 * busy for the whole storm) and the bench measured them instead of the servers. Prints one JSON
 * result on stdout.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { nowMs, type BootJob, type BootOutcome } from './storm-boot.js';
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
  /** Worker threads for the TFTP and HTTP stages (default: the machine's cores). */
  workers?: number;
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
  /** CPU (user + system) the machines' process used, all threads: client and servers share the CPU. */
  clientCpuMs: number;
  /** Worker threads the machines ran on. */
  workers: number;
}

/** Worker threads that boot leased machines; jobs go round-robin, outcomes come back by index. */
class BootWorkers {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, (o: BootOutcome) => void>();
  #next = 0;

  private constructor(readonly server: string) {}

  static async start(n: number, server: string): Promise<BootWorkers> {
    const pool = new BootWorkers(server);
    // Worker threads do not inherit tsx's loader: register it in the worker before importing the .ts file.
    const api = import.meta.resolve('tsx/esm/api');
    const script = new URL('./storm-boot.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(script)}); })`;
    await Promise.all(
      Array.from({ length: n }, async () => {
        const w = new Worker(boot, { eval: true });
        await new Promise<void>((resolve, reject) => {
          w.once('error', reject);
          w.once('message', () => resolve());
        });
        w.on('message', (o: BootOutcome) => pool.#pending.get(o.index)?.(o));
        w.on('error', (e) => process.stderr.write(`storm worker failed: ${e.message}\n`));
        pool.#workers.push(w);
      }),
    );
    return pool;
  }

  boot(job: BootJob): Promise<BootOutcome> {
    return new Promise((resolve) => {
      this.#pending.set(job.index, (o) => {
        this.#pending.delete(job.index);
        resolve(o);
      });
      this.#workers[this.#next++ % this.#workers.length]!.postMessage({ server: this.server, job });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

async function bootOne(relay: StormRelay, workers: BootWorkers, plan: StormPlan, index: number, t0: number) {
  const powerOnMs = Math.random() * plan.spreadMs;
  await new Promise((r) => setTimeout(r, powerOnMs));
  const startMs = nowMs();
  const res: MachineResult = { powerOnMs: Math.round(startMs - t0), stageMs: {}, tftpTimeouts: 0, tftpOutOfOrder: 0 };
  try {
    const mac = Buffer.from([0x52, 0x54, 0x00, 0x5e, (index >> 8) & 0xff, index & 0xff]);
    const lease = await relay.dora({ mac, arch: 7, xid: (0x5e000000 + index * 7919) >>> 0 });
    res.stageMs.dhcp = Math.round(nowMs() - startMs);
    const { http, bootFileSize, machineTimeoutMs } = plan;
    const o = await workers.boot({ index, lease, startMs, http, bootFileSize, machineTimeoutMs });
    if (o.tftpMs !== undefined) res.stageMs.tftp = o.tftpMs;
    if (o.httpMs !== undefined) res.stageMs.http = o.httpMs;
    res.tftpTimeouts = o.tftpTimeouts;
    res.tftpOutOfOrder = o.tftpOutOfOrder;
    if (o.failed) res.failed = o.failed;
  } catch (e) {
    res.failed = { stage: 'dhcp', reason: (e as Error).message };
  }
  return res;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as StormPlan;
  const n = plan.workers ?? availableParallelism();
  const relay = await StormRelay.open(plan.giaddr, plan.server);
  const workers = await BootWorkers.start(n, plan.server);
  const t0 = nowMs();
  const cpu0 = process.cpuUsage();
  try {
    const machines = await Promise.all(
      Array.from({ length: plan.machines }, (_, i) => bootOne(relay, workers, plan, i, t0)),
    );
    const cpu = process.cpuUsage(cpu0);
    const clientCpuMs = Math.round((cpu.user + cpu.system) / 1000);
    const result: StormResult = { machines, wallMs: Math.round(nowMs() - t0), clientCpuMs, workers: n };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    relay.close();
    await workers.close();
  }
}

await main();
