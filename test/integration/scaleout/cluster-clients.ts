/**
 * The client side of the scale-out tests: perfdhcp (DHCPv4, broadcast like real clients) from the LAN's
 * client namespace, and the check that no address was ACKed to two MACs by any of the instances.
 */
import assert from 'node:assert/strict';
import { parsePerfdhcp } from '../../../bench/lib/perfdhcp.js';
import type { Lan } from '../../helpers/realnet.js';
import type { Instance } from './cluster-lan.js';

/** perfdhcp -4 at `rate` exchanges/s over `clients` MACs for `seconds` (bounded); `extra`: more arguments. */
export async function perfdhcp4(lan: Lan, rate: number, clients: number, seconds: number, extra: string[] = []) {
  const r = await lan.execIn(
    lan.cliNs,
    'perfdhcp',
    ['-4', '-l', 'eth0', '-r', String(rate), '-R', String(clients), ...extra, '-p', String(seconds)],
    { timeoutMs: (seconds + 25) * 1000 },
  );
  return { ...parsePerfdhcp(r.stdout, rate), raw: r.stdout + r.stderr };
}

/** Every (ip, mac) pair ACKed by any instance; fails on an address ACKed to two MACs. */
export function ackedPairs(instances: Instance[]): Map<string, string> {
  const byIp = new Map<string, string>();
  for (const i of instances) {
    for (const l of i.events('dhcp.ack')) {
      const ip = String(l.yiaddr);
      const prev = byIp.get(ip);
      assert.ok(prev === undefined || prev === l.mac, `${ip} ACKed to ${prev} and to ${String(l.mac)} (${i.name})`);
      byIp.set(ip, String(l.mac));
    }
  }
  return byIp;
}
