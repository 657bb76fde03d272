/**
 * Helpers for the DHCPv6 realnet tests: an IPv6 lab LAN (radvd with the M flag, so clients are sent to
 * DHCPv6), a pxekit config in full mode with the lease-file store, the store's latest record per key read
 * back from its log, and a dhclient -6 script that records what the client was given.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../helpers/proc.js';
import type { Lan, LanOptions } from '../../helpers/realnet.js';
import { script } from '../dhcp/helpers.js';

/** The LAN's prefix: radvd advertises it with M=1, the server has ::1 in it, the pool hands out from it. */
export const PREFIX = 'fd76::/64';
export const SERVER6 = 'fd76::1';

export function lan6(name: string): LanOptions {
  return { name, ipv6: true, taps: 0, ra: { prefix: PREFIX, managed: true } };
}

export interface Dhcp6TestConfig {
  leaseFile?: string;
  relayPrefix?: string;
  extraPlugins?: unknown[];
}

export function fullConfig(o: Dhcp6TestConfig = {}) {
  const pool = (prefix: string, first: string, last: string) => ({
    prefix,
    range: [first, last],
    preferredLifetime: 60,
    validLifetime: 120,
  });
  return {
    dhcp: { mode: 'off' },
    dhcp6: {
      mode: 'full',
      serverAddress: SERVER6,
      pools: [
        pool(PREFIX, 'fd76::100', 'fd76::1ff'),
        ...(o.relayPrefix
          ? [pool(o.relayPrefix, o.relayPrefix.replace('/64', '100'), o.relayPrefix.replace('/64', '1ff'))]
          : []),
      ],
    },
    tftp: { enabled: false },
    http: { enabled: false },
    plugins: [...(o.leaseFile ? [['lease-file', { path: o.leaseFile }]] : []), ...(o.extraPlugins ?? [])],
    log: { level: 'debug' },
  };
}

export interface StoredLease {
  ip: string;
  mac: string;
  state: string;
  expiresAt: number;
  subnet: string;
}

/** The lease-file store's latest record per key (snapshot, then log), as pxekit would load it. */
export function storedLeases(file: string): Map<string, StoredLease> {
  const out = new Map<string, StoredLease>();
  for (const f of [`${file}.snapshot`, file]) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const json = line.slice(9);
      if (!json.startsWith('{')) continue;
      const rec = JSON.parse(json) as { l?: StoredLease } & Partial<StoredLease>;
      const l = rec.l ?? (rec.ip ? (rec as StoredLease) : undefined);
      if (l) out.set(l.mac || `ip:${l.ip}`, l);
    }
  }
  return out;
}

/** The DHCPv6 bindings (`v6:<duid>:<iaid>` keys) of a lease-file store. */
export function v6Leases(file: string): StoredLease[] {
  return [...storedLeases(file).values()].filter((l) => l.mac.startsWith('v6:'));
}

/**
 * dhclient -6 script: one line per call (`reason address preferred valid`), and the address put on (or
 * taken off) the interface so the client really uses it. dhclient clears the environment: paths written in.
 */
export function dhclient6Script(dir: string, out: string): string {
  return script(
    dir,
    'dhclient6.sh',
    [
      `echo "$reason $new_ip6_address $new_preferred_life $new_max_life $old_ip6_address" >> ${out}`,
      'case "$reason" in',
      '  BOUND6|RENEW6|REBIND6|REBOOT6) /usr/sbin/ip -6 addr replace "$new_ip6_address/128" dev "$interface" nodad ;;',
      '  EXPIRE6|RELEASE6|STOP6) [ -n "$old_ip6_address" ] && /usr/sbin/ip -6 addr del "$old_ip6_address/128" dev "$interface" ;;',
      'esac',
      'exit 0',
    ].join('\n'),
  );
}

/** dhclient -6 arguments with this test's own lease, pid and script files. */
export function dhclientArgs(dir: string, scriptFile: string, iface = 'eth0'): (...extra: string[]) => string[] {
  return (...extra) => [
    '-6',
    '-v',
    '-cf',
    '/dev/null',
    '-lf',
    path.join(dir, `dhclient6-${iface}.leases`),
    '-pf',
    path.join(dir, `dhclient6-${iface}.pid`),
    '-sf',
    scriptFile,
    ...extra,
    iface,
  ];
}

/** Waits until no address of `ns` is tentative (duplicate address detection over). */
export async function noTentative(lan: Lan, ns: string): Promise<void> {
  await waitFor(
    async () =>
      (
        await lan.execIn(ns, '/usr/sbin/ip', ['-6', 'addr', 'show', 'tentative'], { timeoutMs: 5_000 })
      ).stdout.trim() === '',
    15_000,
    `IPv6 addresses in ${ns} out of duplicate address detection`,
  );
}
