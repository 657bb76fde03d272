/**
 * Largest blksize whose DATA packet fits the MTU of the interface facing a client, without IP fragmentation:
 * MTU − 20 (IPv4 header; 40 for IPv6) − 8 (UDP) − 4 (TFTP). Fragmented blocks are what breaks QEMU UEFI and
 * jumbo-frame setups (firmware-quirks.md). Linux only (reads /sys/class/net/IF/mtu); elsewhere unknown.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { ipToString, maskOf, parseIp } from '../util/ipv4.js';
import { unmapIpv4 } from '../util/ipv4-mapped.js';

const TTL_MS = 60_000;
const cache = new Map<string, { at: number; mtu: number | undefined }>();
/**
 * The subnets of the host's interfaces, re-read at most every few seconds: every read request asks, and
 * os.networkInterfaces() is a netlink dump (a boot storm sends a thousand requests in seconds).
 */
const SUBNETS_TTL_MS = 5_000;
type Subnet = { name: string; net: ipaddr.IPv4 | ipaddr.IPv6; bits: number };
/** An IPv4 subnet as integers: `address & mask === base`. */
export type Subnet4 = { name: string; base: number; mask: number };
let subnets: { at: number; list: Subnet[]; v4: Subnet4[] } | undefined;

function readMtu(ifname: string): number | undefined {
  const hit = cache.get(ifname);
  const now = Date.now();
  if (hit && now - hit.at < TTL_MS) return hit.mtu;
  let mtu: number | undefined;
  try {
    const n = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, 'utf8').trim());
    mtu = Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    mtu = undefined;
  }
  cache.set(ifname, { at: now, mtu });
  return mtu;
}

/**
 * `a.b.c.d` (or `::ffff:a.b.c.d`) in plain decimal, as the kernel reports a client, as a 32-bit number;
 * undefined for anything else (IPv6, or a part with a leading zero, octal or hex), which ipaddr.js then parses.
 */
export function ipv4Number(address: string): number | undefined {
  const quad = unmapIpv4(address);
  const n = parseIp(quad);
  // parseIp reads `010` as ten; ipaddr.js as octal. Only the canonical form, which is what clients have.
  return n >= 0 && ipToString(n) === quad ? n : undefined;
}

/** The first of `v4` that holds the IPv4 address `n` (ipv4Number). */
export function matchIpv4(n: number, v4: readonly Subnet4[]): string | undefined {
  for (const s of v4) if ((n & s.mask) >>> 0 === s.base) return s.name;
  return undefined;
}

/** The interface whose subnet holds `address`, or undefined (e.g. a client behind a router). */
export function interfaceFor(address: string): string | undefined {
  // Every read request asks: a client's IPv4 address is matched as an integer, without ipaddr.js's parse.
  const n = ipv4Number(address);
  if (n !== undefined) return matchIpv4(n, hostSubnets().v4);
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(address);
  } catch {
    return undefined;
  }
  for (const { name, net, bits } of hostSubnets().list) {
    if (net.kind() === addr.kind() && addr.match([net, bits] as [typeof addr, number])) return name;
  }
  return undefined;
}

function hostSubnets(): { list: Subnet[]; v4: Subnet4[] } {
  const now = Date.now();
  if (subnets && now - subnets.at < SUBNETS_TTL_MS) return subnets;
  const list: Subnet[] = [];
  const v4: Subnet4[] = [];
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (!info.cidr) continue;
      try {
        const [net, bits] = ipaddr.parseCIDR(info.cidr);
        list.push({ name, net, bits });
        if (net.kind() === 'ipv4') {
          const mask = maskOf(bits);
          v4.push({ name, base: (parseIp(net.toString()) & mask) >>> 0, mask });
        }
      } catch {
        continue;
      }
    }
  }
  subnets = { at: now, list, v4 };
  return subnets;
}

export function mtuBlksizeFor(clientAddress: string): number | undefined {
  const ifname = interfaceFor(clientAddress);
  if (ifname === undefined) return undefined;
  const mtu = readMtu(ifname);
  if (mtu === undefined) return undefined;
  const ipHeader = unmapIpv4(clientAddress).includes(':') ? 40 : 20;
  return mtu - ipHeader - 8 - 4;
}
