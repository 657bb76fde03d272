/**
 * pxekit as a DHCP bench target, per lease store: `memory` (the default store) or `file` (the
 * lease-file plugin, durable: an ACK only after its lease is fsynced). Same generated config as
 * pxekit.ts otherwise. BENCH_CPU_PROF=<dir> starts node with --cpu-prof (one .cpuprofile per
 * server start, written when it exits). BENCH_PXEKIT_BASELINE=<another checkout, built> adds the same
 * targets run from that checkout, named `<name>@base`, for A/B runs of two builds in one bench.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Target, TargetContext } from '../lib/types.js';
import { pxekitBaseBin, pxekitBenchConfig, serverNodeArgs } from './pxekit.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export type LeaseStoreKind = 'memory' | 'file';

/** A DHCP target plus where its last start kept its lease file (for the double-allocation audit). */
export interface PxekitDhcpTarget extends Target {
  /** The lease log of the most recent start (`file` store only). */
  lastLeaseFile(): string | undefined;
}

export function pxekitDhcpConfig(ctx: TargetContext, store: LeaseStoreKind): Record<string, unknown> {
  const base = pxekitBenchConfig(ctx);
  if (store === 'memory') return base;
  const plugins = (base.plugins as unknown[] | undefined) ?? [];
  return {
    ...base,
    plugins: [...plugins, ['lease-file', { path: path.join(ctx.workDir, 'leases.log') }]],
  };
}

/** `repo`: the checkout whose bin/pxekit.js runs (default: this one; another one for a baseline). */
export function pxekitDhcp(store: LeaseStoreKind, repo = REPO): PxekitDhcpTarget {
  let last: string | undefined;
  const bin = path.join(repo, 'bin', 'pxekit.js');
  const suffix = repo === REPO ? '' : '@base';
  return {
    name: (store === 'memory' ? 'pxekit' : 'pxekit-file') + suffix,
    note:
      store === 'memory'
        ? 'full mode, memory lease store'
        : 'full mode, lease-file (WAL, group commit, ACK after fdatasync)',
    services: ['dhcp'],
    unavailable: () => (existsSync(bin) ? undefined : `${bin} does not exist yet`),
    lastLeaseFile: () => last,
    prepare(ctx) {
      const conf = path.join(ctx.workDir, 'pxekit.config.json');
      writeFileSync(conf, JSON.stringify(pxekitDhcpConfig(ctx, store), null, 2));
      last = store === 'file' ? path.join(ctx.workDir, 'leases.log') : undefined;
      return {
        cmd: process.execPath,
        args: [...serverNodeArgs(), bin, 'start', '--config', conf],
        ready: (c) => c.lan.waitForUdpListen(c.lan.srvNs, 67, 15_000),
      };
    },
  };
}

/** The pxekit DHCP targets of BENCH_PXEKIT_BASELINE's checkout (none when unset). */
export function baselineDhcpTargets(stores: readonly LeaseStoreKind[]): PxekitDhcpTarget[] {
  const bin = pxekitBaseBin();
  return bin ? stores.map((s) => pxekitDhcp(s, path.dirname(path.dirname(bin)))) : [];
}
