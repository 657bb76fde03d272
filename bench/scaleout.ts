/**
 * Scale-out benchmark: new-client DORA/s with 1, 2 and 3 full-mode pxekit instances sharing leases
 * in Redis (lease-redis + dhcp-cluster), next to one instance with the in-memory store, all with
 * perfdhcp broadcasting from the client namespace (as real clients do: every instance sees every
 * packet, the owner answers). Each rate step: 1 s warm-up, then a SECONDS run with mostly fresh MACs
 * (perfdhcp draws from 60,000 random ones; Redis is not flushed: that would also drop the member
 * set); bounded rate search (<1 % failed). After each n, Redis is checked: no MAC holds two
 * addresses. Prints a Markdown table.
 * Part of `npm run bench:dhcp` (BENCH_SCALEOUT=0 leaves it out); alone: node --import tsx bench/scaleout.ts
 *   SCALEOUT_COUNTS=1,2 to choose instance counts; SCALEOUT_SECONDS (default 3); SCALEOUT_STEPS (default 4).
 */
import { isMain } from './lib/bench-lan.js';
import { parsePerfdhcp, searchRate, type PerfRun } from './lib/perfdhcp.js';
import { createLan, realnetAvailable, type Lan } from '../test/helpers/realnet.js';
import { tmp } from '../test/integration/dhcp/helpers.js';
import { leaseRecords, startInstance, startLanRedis, type Instance } from '../test/integration/scaleout/cluster-lan.js';

const SECONDS = Number(process.env.SCALEOUT_SECONDS ?? 3);
const STEPS = Number(process.env.SCALEOUT_STEPS ?? 4);
const COUNTS = (process.env.SCALEOUT_COUNTS ?? '1,2,3').split(',').map(Number);
const PREFIX = 'sb:';

function config(redisUrl: string | undefined, ip: string, id: string): object {
  const redis = { url: redisUrl, keyPrefix: PREFIX };
  return {
    dhcp: {
      mode: 'full',
      serverAddress: ip,
      pools: [{ subnet: '10.77.0.0/16', range: ['10.77.1.0', '10.77.250.255'], leaseTime: 3600 }],
    },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'warn' },
    plugins: redisUrl
      ? [
          ['lease-redis', { redis }],
          ['dhcp-cluster', { redis, instanceId: id }],
        ]
      : [],
  };
}

async function perf(lan: Lan, rate: number, clients: number, seconds: number): Promise<PerfRun> {
  const r = await lan.execIn(
    lan.cliNs,
    'perfdhcp',
    ['-4', '-l', 'eth0', '-r', String(rate), '-R', String(clients), '-p', String(seconds)],
    { timeoutMs: (seconds + 20) * 1000 },
  );
  return parsePerfdhcp(r.stdout, rate);
}

export async function runScaleoutBench(): Promise<void> {
  const why = realnetAvailable(['perfdhcp', 'redis-server', 'redis-cli']);
  if (why) {
    process.stdout.write(`scale-out bench skipped: ${why}\n`);
    return;
  }
  const rows: string[] = [];
  const runSet = async (label: string, n: number, withRedis: boolean, start: number) => {
    const lan = createLan({
      name: `scb${n}${withRedis ? 'r' : 'm'}`,
      taps: 0,
      srvIp: '10.77.0.1/16',
      cliIp: '10.77.0.2/16',
    });
    try {
      await lan.up();
      const dir = tmp('scbench');
      const redis = withRedis ? await startLanRedis(lan, dir) : undefined;
      const instances: Instance[] = [];
      for (let k = 0; k < n; k++) {
        const ip = `10.77.0.${11 + k}`;
        instances.push(await startInstance(lan, dir, `i${k + 1}`, `${ip}/16`, config(redis?.url, ip, `i${k + 1}`)));
      }
      // Logs are at warn (as in bench:dhcp), so the member count is read from Redis.
      for (let i = 0; redis && i < 200; i++) {
        if (Number((await redis.cli(['ZCARD', `${PREFIX}cluster:instances`])).trim()) === n) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const measure = async (rate: number) => {
        await perf(lan, Math.max(25, Math.round(rate / 4)), 200, 1);
        const r = await perf(lan, rate, 60_000, SECONDS);
        process.stderr.write(
          `  ${label}: ${rate}/s requested → ${r.rate.toFixed(0)}/s, ${r.failedPct.toFixed(1)} % failed\n`,
        );
        return r;
      };
      const found = await searchRate(measure, start, STEPS);
      let check = '';
      if (redis) {
        const records = await leaseRecords(redis.cli, PREFIX);
        const macs = new Set<string>();
        let doubles = 0;
        for (const rec of records.values())
          if (rec.mac) {
            if (macs.has(rec.mac)) doubles++;
            macs.add(rec.mac);
          }
        check = `; last run: ${records.size} lease records, ${doubles} MACs with two`;
      }
      rows.push(`| ${label} | ${found.best ? found.best.rate.toFixed(0) : '< 25'} | ${found.trail}${check} |`);
    } finally {
      await lan.down();
    }
  };
  await runSet('1 instance, memory store', 1, false, 800);
  for (const n of COUNTS)
    await runSet(`${n} instance${n > 1 ? 's' : ''}, lease-redis + dhcp-cluster`, n, true, 400 * n);
  process.stdout.write(
    [
      '',
      `new-client DORA/s (perfdhcp broadcast, ${SECONDS} s runs, <1 % failed), ${new Date().toISOString()}`,
      '',
      '| setup | DORA/s | search trail |',
      '|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

if (isMain(import.meta.url)) await runScaleoutBench();
