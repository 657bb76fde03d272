/** 16-byte IPv6 addresses on the wire ↔ RFC 5952 strings. */
import ipaddr from 'ipaddr.js';

export function readAddress(buf: Buffer, offset: number): string {
  return ipaddr.fromByteArray([...buf.subarray(offset, offset + 16)]).toString();
}

/** Writes `address` at `offset`; throws `Error` naming the value when it is not an IPv6 address. */
export function writeAddress(buf: Buffer, offset: number, address: string): void {
  buf.set(addressBytes(address), offset);
}

export function addressBytes(address: string): number[] {
  if (!ipaddr.IPv6.isValid(address)) throw new Error(`'${address}' is not an IPv6 address`);
  return ipaddr.IPv6.parse(address).toByteArray();
}

/** RFC 5952 form of any IPv6 spelling (`FD77:0::1` → `fd77::1`); the zone (`%eth0`) is kept. */
export function canonicalAddress(address: string): string {
  const [addr, zone] = address.split('%', 2);
  const text = ipaddr.IPv6.parse(addr!).toString();
  return zone === undefined ? text : `${text}%${zone}`;
}
