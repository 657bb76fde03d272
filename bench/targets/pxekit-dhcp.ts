/**
 * pxekit as a DHCP bench target, per lease store: `memory` (the default store) or `file` (the
 * lease-file plugin, durable: an ACK only after its lease is fsynced). Same generated config as
 * pxekit.ts otherwise. BENCH_CPU_PROF=<dir> starts node with --cpu-prof (one .cpuprofile per
 * server start, written when it exits).
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Target, TargetContext } from '../lib/types.js';
import { cpuProfArgs, pxekitBenchConfig } from './pxekit.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(REPO, 'bin', 'pxekit.js');

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
    plugins: [...plugins, ['lease-file', { path: path.join(ctx.workDir, 'leases.log'), fsync: 'batch', batchMs: 2 }]],
  };
}

export function pxekitDhcp(store: LeaseStoreKind): PxekitDhcpTarget {
  let last: string | undefined;
  return {
    name: store === 'memory' ? 'pxekit' : 'pxekit-file',
    note:
      store === 'memory'
        ? 'full mode, memory lease store'
        : 'full mode, lease-file (WAL, group commit, ACK after fdatasync)',
    services: ['dhcp'],
    unavailable: () => (existsSync(BIN) ? undefined : `${path.relative(REPO, BIN)} does not exist yet`),
    lastLeaseFile: () => last,
    prepare(ctx) {
      const conf = path.join(ctx.workDir, 'pxekit.config.json');
      writeFileSync(conf, JSON.stringify(pxekitDhcpConfig(ctx, store), null, 2));
      last = store === 'file' ? path.join(ctx.workDir, 'leases.log') : undefined;
      return {
        cmd: process.execPath,
        args: [...cpuProfArgs(), BIN, 'start', '--config', conf],
        ready: (c) => c.lan.waitForUdpListen(c.lan.srvNs, 67, 15_000),
      };
    },
  };
}
