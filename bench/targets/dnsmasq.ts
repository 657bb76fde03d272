/**
 * dnsmasq 2.90 (Debian dnsmasq-base) as the reference DHCP and TFTP server. Flags chosen for a
 * throughput comparison: no ping check (it delays every first OFFER by ~3 s), no per-packet
 * DHCP logging, a lease limit above the pool size (the default is 1,000 leases).
 */
import { dnsmasqBaseArgs, dnsmasqDhcpArgs } from '../../test/helpers/dnsmasq.js';
import { which } from '../../test/helpers/realnet.js';
import type { Target, TargetContext } from '../lib/types.js';

const common = (ctx: TargetContext) => dnsmasqBaseArgs({ dir: ctx.workDir });
const unavailable = () => (which('dnsmasq') ? undefined : 'dnsmasq not installed (dnsmasq-base)');

/** DHCP from the bench's relayed pool; `leaseFile: false` keeps leases in memory only. */
export function dnsmasqDhcp(leaseFile: boolean): Target {
  return {
    name: leaseFile ? 'dnsmasq' : 'dnsmasq-ro',
    note: leaseFile ? 'lease file rewritten on every change' : '--leasefile-ro: leases in memory only',
    services: ['dhcp'],
    unavailable,
    prepare(ctx) {
      const pool = ctx.pool;
      if (!pool) throw new Error('dnsmasqDhcp needs ctx.pool');
      const range = `${pool.first},${pool.last},${pool.netmask},1h`;
      return {
        cmd: 'dnsmasq',
        args: [
          ...dnsmasqDhcpArgs({ dir: ctx.workDir }, range),
          ...(leaseFile ? [] : ['--leasefile-ro']), // the file is then neither read nor written
          '--quiet-dhcp',
          '--dhcp-lease-max=100000',
        ],
        ready: (c) => c.lan.waitForUdpListen(c.lan.srvNs, 67, 10_000),
      };
    },
  };
}

/** TFTP only (no DHCP), serving ctx.root; up to 300 concurrent transfers (default 50). */
export function dnsmasqTftp(): Target {
  return {
    name: 'dnsmasq',
    note: 'TFTP only; ignores windowsize',
    services: ['tftp'],
    unavailable,
    prepare(ctx) {
      return {
        cmd: 'dnsmasq',
        args: [...common(ctx), '--enable-tftp', `--tftp-root=${ctx.root}`, '--tftp-max=300'],
        ready: (c) => c.lan.waitForUdpListen(c.lan.srvNs, 69, 10_000),
      };
    },
  };
}

/**
 * A whole network boot like pxekit's: DHCP on the LAN (no ping check), TFTP from ctx.root,
 * iPXE clients (user class "iPXE") get the HTTP script URL, UEFI x64 firmware (arch 7) gets
 * ipxe.efi by TFTP. HTTP itself is another target (nginx) started beside it.
 */
export function dnsmasqBoot(): Target {
  return {
    name: 'dnsmasq',
    note: 'DHCP + TFTP (no ping check); HTTP by nginx',
    services: ['boot'],
    unavailable,
    prepare(ctx) {
      const pool = ctx.pool;
      if (!pool) throw new Error('dnsmasqBoot needs ctx.pool');
      const addr = ctx.lan.srvAddr;
      return {
        cmd: 'dnsmasq',
        args: [
          ...dnsmasqDhcpArgs({ dir: ctx.workDir }, `${pool.first},${pool.last},1h`),
          '--log-dhcp',
          '--enable-tftp',
          `--tftp-root=${ctx.root}`,
          '--dhcp-userclass=set:ipxe,iPXE',
          '--dhcp-match=set:efi64,option:client-arch,7',
          `--dhcp-boot=tag:ipxe,http://${addr}/boot.ipxe`,
          '--dhcp-boot=tag:efi64,tag:!ipxe,ipxe.efi',
        ],
        ready: async (c) => {
          await c.lan.waitForUdpListen(c.lan.srvNs, 67, 10_000);
          await c.lan.waitForUdpListen(c.lan.srvNs, 69, 10_000);
        },
      };
    },
  };
}
