/**
 * Largest blksize whose DATA packet fits the MTU of the interface facing a client, without IP fragmentation:
 * MTU − 20 (IPv4 header; 40 for IPv6) − 8 (UDP) − 4 (TFTP). Fragmented blocks are what breaks QEMU UEFI and
 * jumbo-frame setups (firmware-quirks.md). Linux only (reads /sys/class/net/IF/mtu); elsewhere unknown.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { unmapIpv4 } from '../util/ipv4-mapped.js';

const TTL_MS = 60_000;
const cache = new Map<string, { at: number; mtu: number | undefined }>();
/**
 * The subnets of the host's interfaces, re-read at most every few seconds: every read request asks, and
 * os.networkInterfaces() is a netlink dump (a boot storm sends a thousand requests in seconds).
 */
const SUBNETS_TTL_MS = 5_000;
type Subnet = { name: string; net: ipaddr.IPv4 | ipaddr.IPv6; bits: number };
let subnets: { at: number; list: Subnet[] } | undefined;

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

/** The interface whose subnet holds `address`, or undefined (e.g. a client behind a router). */
export function interfaceFor(address: string): string | undefined {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(address);
  } catch {
    return undefined;
  }
  for (const { name, net, bits } of hostSubnets()) {
    if (net.kind() === addr.kind() && addr.match([net, bits] as [typeof addr, number])) return name;
  }
  return undefined;
}

function hostSubnets(): Subnet[] {
  const now = Date.now();
  if (subnets && now - subnets.at < SUBNETS_TTL_MS) return subnets.list;
  const list: Subnet[] = [];
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (!info.cidr) continue;
      try {
        const [net, bits] = ipaddr.parseCIDR(info.cidr);
        list.push({ name, net, bits });
      } catch {
        continue;
      }
    }
  }
  subnets = { at: now, list };
  return list;
}

export function mtuBlksizeFor(clientAddress: string): number | undefined {
  const ifname = interfaceFor(clientAddress);
  if (ifname === undefined) return undefined;
  const mtu = readMtu(ifname);
  if (mtu === undefined) return undefined;
  const ipHeader = unmapIpv4(clientAddress).includes(':') ? 40 : 20;
  return mtu - ipHeader - 8 - 4;
}
