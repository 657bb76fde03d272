/**
 * Address pools as numbers: a config pool (`{ subnet, range, router, dns, ... }`) checked once and
 * turned into 32-bit integers, so that matching a request to a pool and walking a range cost no
 * string parsing per packet.
 */
import type { DhcpPool } from '../config.js';
import { PxeError } from '../../errors.js';
import { ipToString, maskOf, parseIp } from '../../util/ipv4.js';

/** An IPv4 subnet as numbers. */
export interface Subnet {
  /** `10.99.0.0/24`, normalised. */
  cidr: string;
  network: number;
  prefix: number;
  mask: number;
  broadcast: number;
}

export interface Pool extends Subnet {
  config: DhcpPool;
  /** First and last address handed out, inclusive. */
  start: number;
  end: number;
  /** Reserved address by MAC (lowercase colon form). */
  reservations: Map<string, { ip: string; hostname?: string }>;
  /** Reserved addresses → their MAC (never handed to anyone else). */
  reservedIps: Map<string, string>;
}

/** The largest range walked by the allocator (a /12); bigger ranges are a config error. */
export const MAX_RANGE = 1 << 20;

/** Parses `a.b.c.d/n`; undefined when malformed. */
export function parseCidr(cidr: string): Subnet | undefined {
  const [addr, len, extra] = cidr.split('/');
  const ip = parseIp(addr ?? '');
  const prefix = Number(len);
  if (extra !== undefined || ip < 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const mask = maskOf(prefix);
  const network = (ip & mask) >>> 0;
  return { cidr: `${ipToString(network)}/${prefix}`, network, prefix, mask, broadcast: (network | ~mask) >>> 0 };
}

/** True when the numeric address `ip` is inside `s`. */
export function contains(s: Subnet, ip: number): boolean {
  return ip >= 0 && (ip & s.mask) >>> 0 === s.network;
}

/** Normalises a MAC to lowercase colon form (`52-54-00-AA-BB-CC` → `52:54:00:aa:bb:cc`). */
export function normalizeMac(mac: string): string {
  const hex = mac.replace(/[:-]/g, '').toLowerCase();
  return hex.match(/../g)?.join(':') ?? mac.toLowerCase();
}

/** Checks and converts the config pools; throws `PXE_ERR_CONFIG_INVALID` naming the bad pool. */
export function buildPools(pools: DhcpPool[]): Pool[] {
  return pools.map((p, i) => {
    const where = `dhcp.pools[${i}]`;
    const bad = (msg: string) =>
      new PxeError('PXE_ERR_CONFIG_INVALID', `${where}: ${msg}`, {
        fix: 'fix the pool in the config: range and reservations must lie inside the subnet',
      });
    const subnet = parseCidr(p.subnet);
    if (!subnet) throw bad(`subnet '${p.subnet}' is not a CIDR like 10.99.0.0/24`);
    const start = parseIp(p.range[0]);
    const end = parseIp(p.range[1]);
    if (start < 0 || end < 0) throw bad(`range ${JSON.stringify(p.range)} is not two IPv4 addresses`);
    if (start > end) throw bad(`range starts after it ends (${p.range[0]} > ${p.range[1]})`);
    if (!contains(subnet, start) || !contains(subnet, end))
      throw bad(`range ${p.range[0]}-${p.range[1]} is not inside ${subnet.cidr}`);
    if (end - start + 1 > MAX_RANGE) throw bad(`range has ${end - start + 1} addresses; at most ${MAX_RANGE} per pool`);
    const reservations = new Map<string, { ip: string; hostname?: string }>();
    const reservedIps = new Map<string, string>();
    for (const r of p.reservations ?? []) {
      const mac = normalizeMac(r.mac);
      const ipNum = parseIp(r.ip);
      if (!contains(subnet, ipNum)) throw bad(`reservation ${r.mac} → ${r.ip} is not inside ${subnet.cidr}`);
      if (reservedIps.has(r.ip) && reservedIps.get(r.ip) !== mac) throw bad(`address ${r.ip} is reserved for two MACs`);
      reservations.set(mac, { ip: r.ip, ...(r.hostname ? { hostname: r.hostname } : {}) });
      reservedIps.set(r.ip, mac);
    }
    return { ...subnet, config: p, start, end, reservations, reservedIps };
  });
}

/** The pool whose subnet contains `ip` (dotted quad), if any. */
export function poolFor(pools: readonly Pool[], ip: string | undefined): Pool | undefined {
  if (!ip) return undefined;
  const n = parseIp(ip);
  if (n <= 0) return undefined;
  return pools.find((p) => contains(p, n));
}
