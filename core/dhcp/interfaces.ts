/**
 * Which local interface and address a DHCP packet belongs to. Node's dgram has no IP_PKTINFO, so a
 * socket bound to 0.0.0.0 (needed to receive broadcasts on Linux) cannot tell where a broadcast came
 * in. The listener therefore also binds one socket per served address (unicast to it arrives there,
 * which identifies it exactly), and for the rest we infer: the interface whose subnet contains the
 * relay (giaddr), the client's ciaddr or the source address; else the only served interface; else
 * nothing (the caller falls back to `dhcp.serverAddress`). docs/dhcp.md lists the limits.
 */
import { networkInterfaces } from 'node:os';
import { maskOf, parseIp } from '../util/ipv4.js';
import { contains, type Subnet } from './leases/pool.js';

/** One IPv4 address of one local interface. */
export interface LocalAddress {
  interface: string;
  address: string;
  netmask: string;
  internal: boolean;
  subnet: Subnet;
}

/** The local IPv4 addresses, from `os.networkInterfaces()` (or a given table, for tests). */
export function localAddresses(table: ReturnType<typeof networkInterfaces> = networkInterfaces()): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const [name, list] of Object.entries(table)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4') continue;
      const ip = parseIp(a.address);
      const prefix = prefixOf(a.netmask);
      if (ip < 0 || prefix < 0) continue;
      const mask = maskOf(prefix);
      const network = (ip & mask) >>> 0;
      out.push({
        interface: name,
        address: a.address,
        netmask: a.netmask,
        internal: a.internal,
        subnet: { cidr: `${a.address}/${prefix}`, network, prefix, mask, broadcast: (network | ~mask) >>> 0 },
      });
    }
  }
  return out;
}

function prefixOf(netmask: string): number {
  const m = parseIp(netmask);
  if (m < 0) return -1;
  let prefix = 0;
  while (prefix < 32 && (m & (0x80000000 >>> prefix)) !== 0) prefix++;
  return (maskOf(prefix) ^ m) >>> 0 === 0 ? prefix : -1;
}

/**
 * The addresses to serve: `config.interfaces` entries (interface names or addresses) and
 * `dhcp.address`; with neither, every non-loopback address (loopback only if nothing else exists).
 * Throws with the unknown names when an entry matches nothing.
 */
export function servedAddresses(
  all: LocalAddress[],
  interfaces: string[] | undefined,
  address: string | undefined,
): LocalAddress[] {
  const wanted = [...(interfaces ?? []), ...(address && address !== '0.0.0.0' ? [address] : [])];
  if (wanted.length === 0) {
    const external = all.filter((a) => !a.internal);
    return external.length ? external : all;
  }
  const unknown = wanted.filter((w) => !all.some((a) => a.interface === w || a.address === w));
  if (unknown.length)
    throw new Error(`no local IPv4 interface or address matches ${unknown.map((u) => `'${u}'`).join(', ')}`);
  return all.filter((a) => wanted.includes(a.interface) || wanted.includes(a.address));
}

export interface PacketAddressing {
  giaddr: string;
  ciaddr: string;
  source: string;
}

/**
 * Where a packet most likely arrived: the local address whose subnet holds giaddr, ciaddr or the
 * source address (checked against every local address, so that a packet from an interface we do not
 * serve is recognised: `'filtered'`); else the single served non-loopback address, else the single
 * served address. Undefined when it cannot be told (several interfaces, a broadcast from 0.0.0.0).
 */
export function inferLocal(
  all: readonly LocalAddress[],
  served: readonly LocalAddress[],
  p: PacketAddressing,
): LocalAddress | 'filtered' | undefined {
  for (const ip of [p.giaddr, p.ciaddr, p.source]) {
    const n = parseIp(ip);
    if (n <= 0) continue;
    const hit = served.find((a) => contains(a.subnet, n)) ?? all.find((a) => contains(a.subnet, n));
    if (hit) return served.includes(hit) ? hit : 'filtered';
  }
  const external = served.filter((a) => !a.internal);
  if (external.length === 1) return external[0];
  return served.length === 1 ? served[0] : undefined;
}
