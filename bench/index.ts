/**
 * `npm run bench`: the DHCP, DHCPv6, cold-start, flood, TFTP, HTTP, QEMU boot and boot-storm benchmarks one
 * after another, each in its own namespaces, every target under the same load, then one table with ratios to the reference
 * (dnsmasq for DHCP/TFTP, nginx for HTTP). Progress goes to stderr, the table to stdout.
 * Bounded: each perfdhcp/curl/atftp/QEMU run has its own timeout; the whole run takes ~28 min.
 * BENCH_ONLY=dhcp,dhcp6,dhcp-cold,flood,tftp,http,boot,storm picks benches; BENCH_TARGETS=name,... picks targets.
 */
import { runBootBench } from './boot.js';
import { runDhcpColdBench } from './dhcp-cold.js';
import { runDhcpBench } from './dhcp.js';
import { runDhcp6Bench } from './dhcp6.js';
import { runHttpBench } from './http.js';
import { runFloodBench } from './flood.js';
import { runStormBench } from './storm.js';
import { runTftpBench } from './tftp.js';
import { progress } from './lib/bench-lan.js';
import { waitQuiet } from './lib/quiet.js';
import { printTable } from './lib/report.js';
import type { Row } from './lib/types.js';

const benches: Array<[string, () => Promise<Row[]>]> = [
  ['dhcp', () => runDhcpBench()],
  ['dhcp6', () => runDhcp6Bench()],
  ['dhcp-cold', () => runDhcpColdBench()],
  ['flood', () => runFloodBench()],
  ['tftp', () => runTftpBench()],
  ['http', () => runHttpBench()],
  ['boot', () => runBootBench()],
  ['storm', () => runStormBench()],
];

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const t0 = Date.now();
  const rows: Row[] = [];
  const failures: string[] = [];
  for (const [name, run] of benches) {
    if (only?.length && !only.includes(name)) continue;
    progress(`${name}: machine ${await waitQuiet()}`);
    const t = Date.now();
    try {
      rows.push(...(await run()));
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
    progress(`${name} done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  printTable(
    `pxekit bench (${new Date().toISOString().slice(0, 16)}Z, ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    rows,
  );
  const skipped = rows.filter((r) => r.value === undefined && r.note?.startsWith('skipped'));
  for (const r of skipped) process.stdout.write(`skipped ${r.bench}/${r.target}: ${r.note?.slice(9)}\n`);
  for (const f of failures) process.stdout.write(`FAILED ${f}\n`);
  if (failures.length) process.exitCode = 1;
}

void main();
