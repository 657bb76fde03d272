/**
 * ===== pxekit target: the server under test. =====
 * Starts `node bin/pxekit.js start --config <generated config>` in the server namespace, with
 * only the service under test switched on. Written against the CLI/config contract (design.md
 * "A config file"); until bin/pxekit.js exists the start fails and the bench prints why and
 * skips this column. Whoever finishes the server: adjust the generated config here if the
 * schema moves, nothing else in bench/ should need to change.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Target, TargetContext } from '../lib/types.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(REPO, 'bin', 'pxekit.js');

/**
 * The config pxekit is started with for one bench (exported for tests of the contract). `sources`
 * replaces the source-disk entry (HTTP bench from S3/git: targets/pxekit-sources.ts).
 */
export function pxekitBenchConfig(ctx: TargetContext, sources?: unknown[]): Record<string, unknown> {
  // BENCH_PXEKIT_PLUGINS='[["metrics", {}]]': plugins added to every pxekit config (e.g. one that taps HTTP hooks).
  const extra = JSON.parse(process.env.BENCH_PXEKIT_PLUGINS ?? '[]') as unknown[];
  const files = [...(sources ?? [['source-disk', { root: ctx.root }]]), ...extra];
  const pool = ctx.pool;
  return {
    dhcp:
      (ctx.service === 'dhcp' || ctx.service === 'boot') && pool
        ? {
            mode: 'full',
            port: 67,
            pools: [
              {
                subnet: `${pool.subnet}`,
                range: [pool.first, pool.last],
                router: pool.router,
                dns: [ctx.lan.srvAddr],
                leaseTime: 3600,
              },
            ],
          }
        : { mode: 'off' },
    // All bench clients share one address (10.77.0.2): lift the per-client cap (default 16)
    // as dnsmasq's --tftp-max is lifted, so the 200-transfer load measures throughput.
    tftp: { port: ctx.tftpPort ?? 69, maxPerClient: 1000 },
    http: { port: ctx.httpPort ?? 80, baseUrl: `http://${ctx.lan.srvAddr}` },
    log: { level: 'warn' },
    plugins:
      ctx.service === 'boot'
        ? // iPXE clients get the script URL; raw UEFI x64 PXE firmware gets ipxe.efi over TFTP.
          [...files, ['ipxe-chain', { script: '/boot.ipxe', binaries: { uefi64: 'ipxe.efi' } }]]
        : files,
  };
}

/** `variant`: another column name/note and `sources` for the same server (pxekit-sources.ts). */
export function pxekitTarget(
  variant?: {
    name: string;
    note: string;
    sources: (ctx: TargetContext) => Promise<unknown[]>;
  },
  bin = BIN,
): Target {
  return {
    name: variant?.name ?? 'pxekit',
    note: variant?.note ?? 'node bin/pxekit.js start --config <generated JSON>',
    services: ['dhcp', 'tftp', 'http', 'boot'],
    unavailable: () => (existsSync(bin) ? undefined : `${path.relative(REPO, bin)} does not exist yet`),
    async prepare(ctx) {
      const conf = path.join(ctx.workDir, 'pxekit.config.json');
      writeFileSync(conf, JSON.stringify(pxekitBenchConfig(ctx, await variant?.sources(ctx)), null, 2));
      return {
        cmd: process.execPath,
        args: [...serverNodeArgs(), bin, 'start', '--config', conf],
        ready: async (c) => {
          if (c.service === 'dhcp' || c.service === 'boot') await c.lan.waitForUdpListen(c.lan.srvNs, 67, 15_000);
          if (c.service === 'tftp' || c.service === 'boot')
            await c.lan.waitForUdpListen(c.lan.srvNs, c.tftpPort ?? 69, 15_000);
          if (c.service === 'http' || c.service === 'boot')
            await c.lan.waitForTcpListen(c.lan.srvNs, c.httpPort ?? 80, 15_000);
        },
      };
    },
  };
}

/**
 * `BENCH_CPU_PROF=<dir>`: node's --cpu-prof for every pxekit started (one .cpuprofile per process).
 * `BENCH_NODE_FLAGS="--flag ..."`: extra node flags for every pxekit started (A/B experiments).
 */
export function serverNodeArgs(): string[] {
  const prof = process.env.BENCH_CPU_PROF;
  const extra = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  return [...extra, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`] : [])];
}

/**
 * `BENCH_PXEKIT_BASELINE=<dir>`: `<dir>/bin/pxekit.js` (another built checkout, or a copy of its bin/, dist/,
 * core/native/build/, package.json and node_modules), for A/B runs interleaved with this build (storm, tftp,
 * dhcp, dhcp-cold, lease-file); undefined when not set.
 */
export function pxekitBaseBin(): string | undefined {
  const dir = process.env.BENCH_PXEKIT_BASELINE;
  return dir ? path.resolve(dir, 'bin', 'pxekit.js') : undefined;
}
