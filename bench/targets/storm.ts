/**
 * The boot storm's two server stacks, configured for the load like an operator would: dnsmasq with
 * its lease file, DHCP on the relayed pool, TFTP for up to 1,000 transfers (its default is 50) and
 * no per-packet logging; pxekit in full mode with its durable lease file, TFTP and HTTP. Same files.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Target } from '../lib/types.js';
import { dnsmasqBoot } from './dnsmasq.js';
import { pxekitTarget } from './pxekit.js';
import { pxekitDhcpConfig } from './pxekit-dhcp.js';

export function stormDnsmasq(): Target {
  const base = dnsmasqBoot();
  return {
    ...base,
    note: 'dnsmasq DHCP (lease file, no ping) + TFTP (--tftp-max=1000), nginx HTTP',
    async prepare(ctx) {
      const spec = await base.prepare(ctx);
      const pool = ctx.pool!;
      const args = spec.args
        .filter((a) => a !== '--log-dhcp' && !a.startsWith('--dhcp-range='))
        .concat([
          `--dhcp-range=${pool.first},${pool.last},${pool.netmask},1h`,
          '--tftp-max=1000',
          '--dhcp-lease-max=100000',
        ]);
      return { ...spec, args };
    },
  };
}

/** `bin`: another build's bin/pxekit.js (the storm's BENCH_PXEKIT_BASELINE A/B stack). */
export function stormPxekit(bin?: string, name = 'pxekit'): Target {
  const base = pxekitTarget(undefined, bin);
  return {
    ...base,
    name,
    note: `pxekit full DHCP (lease-file store) + TFTP + HTTP${bin ? ` (${bin})` : ''}`,
    async prepare(ctx) {
      const spec = await base.prepare(ctx);
      // Same config as the boot bench, plus the durable lease file (as dnsmasq keeps one).
      const conf = path.join(ctx.workDir, 'pxekit.config.json');
      const withFile = pxekitDhcpConfig({ ...ctx, service: 'boot' }, 'file');
      writeFileSync(conf, JSON.stringify(withFile, null, 2));
      return spec;
    },
  };
}
