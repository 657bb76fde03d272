/**
 * IPv6 address pools for stateful DHCPv6 (IA_NA): a prefix, a dynamic range inside it, and
 * reservations by DUID or by MAC. Addresses are BigInts internally, RFC 5952 strings outside.
 */
import { addressBytes, canonicalAddress } from './address.js';

export interface Pool6Reservation {
  /** DUID bytes, when the reservation is by DUID. */
  duid?: Buffer;
  /** Lowercase colon MAC, when the reservation is by MAC (from DUID-LL/LLT, option 79 or the link-local address). */
  mac?: string;
  address: string;
  hostname?: string;
}

export interface Pool6Spec {
  /** `fd77::/64`. */
  prefix: string;
  range: [string, string];
  preferredLifetime: number;
  validLifetime: number;
  reservations: Pool6Reservation[];
}

export interface Pool6 extends Pool6Spec {
  readonly network: bigint;
  readonly prefixLength: number;
  readonly start: bigint;
  readonly end: bigint;
}

export function toBigInt(address: string): bigint {
  let n = 0n;
  for (const b of addressBytes(address.split('%', 1)[0]!)) n = (n << 8n) | BigInt(b);
  return n;
}

export function fromBigInt(n: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalAddress(parts.join(':'));
}

/** Checks and indexes pools; throws `Error` naming the pool and the problem. */
export function buildPools6(specs: readonly Pool6Spec[]): Pool6[] {
  return specs.map((s, i) => {
    const [net, lenText] = s.prefix.split('/');
    const prefixLength = Number(lenText);
    if (!net || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 128) {
      throw new Error(`dhcp6.pools[${i}].prefix '${s.prefix}' is not an IPv6 prefix like fd77::/64`);
    }
    const mask = prefixLength === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefixLength)) - 1n);
    const network = toBigInt(net) & mask;
    const start = toBigInt(s.range[0]);
    const end = toBigInt(s.range[1]);
    const inside = (n: bigint): boolean => (n & mask) === network;
    if (!inside(start) || !inside(end) || start > end) {
      throw new Error(`dhcp6.pools[${i}].range ${s.range.join(' - ')} is not an ascending range inside ${s.prefix}`);
    }
    for (const r of s.reservations) {
      if (!inside(toBigInt(r.address)))
        throw new Error(`dhcp6.pools[${i}]: reservation ${r.address} is outside ${s.prefix}`);
    }
    return { ...s, network, prefixLength, start, end };
  });
}

export function poolContains(pool: Pool6, address: string): boolean {
  const shift = BigInt(128 - pool.prefixLength);
  return toBigInt(address) >> shift === pool.network >> shift;
}

/** The reservation of this client in `pool`: by DUID first, then by MAC. */
export function reservationFor(pool: Pool6, duid: Buffer, mac: string | undefined): Pool6Reservation | undefined {
  return (
    pool.reservations.find((r) => r.duid?.equals(duid)) ??
    (mac ? pool.reservations.find((r) => r.mac === mac) : undefined)
  );
}

/** True when `address` is reserved in `pool` for a client other than (duid, mac). */
export function reservedForOther(pool: Pool6, address: string, duid: Buffer, mac: string | undefined): boolean {
  const r = pool.reservations.find((x) => toBigInt(x.address) === toBigInt(address));
  return r !== undefined && !(r.duid?.equals(duid) || (mac !== undefined && r.mac === mac));
}
