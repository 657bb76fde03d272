/**
 * DHCPv6 bench targets, each a stateful IA_NA server for the on-link prefix of the bench LAN (ctx.pool6):
 * dnsmasq 2.90 (its lease file, the reference), Kea 2.2 kea-dhcp6 (memfile persisted) and pxekit
 * (`dhcp6.mode: full`, memory store or the durable lease-file store). DHCPv4, TFTP and HTTP are off.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dnsmasqBaseArgs } from '../../test/helpers/dnsmasq.js';
import { which } from '../../test/helpers/realnet.js';
import type { Target, TargetContext } from '../lib/types.js';
import type { LeaseStoreKind, PxekitDhcpTarget } from './pxekit-dhcp.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(REPO, 'bin', 'pxekit.js');
/** Lease times long enough that no lease expires during a run (perfdhcp -u needs that). */
const PREFERRED = 1800;
const VALID = 3600;

function pool6(ctx: TargetContext): NonNullable<TargetContext['pool6']> {
  if (!ctx.pool6) throw new Error('DHCPv6 targets need ctx.pool6');
  return ctx.pool6;
}
const ready = (c: TargetContext) => c.lan.waitForUdpListen(c.lan.srvNs, 547, 15_000);

export function dnsmasqDhcp6(): Target {
  return {
    name: 'dnsmasq',
    note: 'DHCPv6, lease file rewritten on every change',
    services: ['dhcp6'],
    unavailable: () => (which('dnsmasq') ? undefined : 'dnsmasq not installed (dnsmasq-base)'),
    prepare(ctx) {
      const p = pool6(ctx);
      return {
        cmd: 'dnsmasq',
        args: [
          ...dnsmasqBaseArgs({ dir: ctx.workDir }),
          '--quiet-dhcp6',
          '--dhcp-lease-max=1000000',
          `--dhcp-range=${p.first},${p.last},${p.prefix.split('/')[1]},${VALID}`,
          `--dhcp-leasefile=${path.join(ctx.workDir, 'leases')}`,
        ],
        ready,
      };
    },
  };
}

export function keaDhcp6(): Target {
  return {
    name: 'kea',
    note: 'kea-dhcp6, memfile leases persisted',
    services: ['dhcp6'],
    unavailable: () => (which('kea-dhcp6') ? undefined : 'kea-dhcp6 not installed (kea-dhcp6-server)'),
    prepare(ctx) {
      const p = pool6(ctx);
      const conf = path.join(ctx.workDir, 'kea-dhcp6.json');
      const dhcp6 = {
        'interfaces-config': { interfaces: ['eth0'] },
        // Without this Kea writes its DUID to /var/lib/kea (and fails when it cannot).
        'server-id': { type: 'LL', persist: false },
        'lease-database': {
          type: 'memfile',
          persist: true,
          name: path.join(ctx.workDir, 'leases6.csv'),
          'lfc-interval': 0,
        },
        'preferred-lifetime': PREFERRED,
        'valid-lifetime': VALID,
        subnet6: [{ id: 1, subnet: p.prefix, interface: 'eth0', pools: [{ pool: `${p.first}-${p.last}` }] }],
        loggers: [{ name: 'kea-dhcp6', output_options: [{ output: 'stdout' }], severity: 'WARN' }],
      };
      writeFileSync(conf, JSON.stringify({ Dhcp6: dhcp6 }, null, 2));
      return {
        cmd: 'kea-dhcp6',
        args: ['-c', conf],
        // Kea writes its PID and lock files under /run/kea unless told otherwise.
        env: { ...process.env, KEA_PIDFILE_DIR: ctx.workDir, KEA_LOCKFILE_DIR: ctx.workDir },
        ready,
      };
    },
  };
}

export function pxekitDhcp6Config(ctx: TargetContext, store: LeaseStoreKind): Record<string, unknown> {
  const p = pool6(ctx);
  return {
    dhcp: { mode: 'off' },
    dhcp6: {
      mode: 'full',
      pools: [{ prefix: p.prefix, range: [p.first, p.last], preferredLifetime: PREFERRED, validLifetime: VALID }],
    },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'warn' },
    plugins: store === 'file' ? [['lease-file', { path: path.join(ctx.workDir, 'leases.log') }]] : [],
  };
}

export function pxekitDhcp6(store: LeaseStoreKind): PxekitDhcpTarget {
  let last: string | undefined;
  return {
    name: store === 'memory' ? 'pxekit' : 'pxekit-file',
    note:
      store === 'memory'
        ? 'dhcp6 full, memory lease store'
        : 'dhcp6 full, lease-file (WAL, group commit, Reply after fdatasync)',
    services: ['dhcp6'],
    unavailable: () => (existsSync(BIN) ? undefined : `${path.relative(REPO, BIN)} does not exist yet`),
    lastLeaseFile: () => last,
    prepare(ctx) {
      const conf = path.join(ctx.workDir, 'pxekit.config.json');
      writeFileSync(conf, JSON.stringify(pxekitDhcp6Config(ctx, store), null, 2));
      last = store === 'file' ? path.join(ctx.workDir, 'leases.log') : undefined;
      return { cmd: process.execPath, args: [BIN, 'start', '--config', conf], ready };
    },
  };
}
