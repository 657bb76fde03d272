/**
 * `::ffff:10.0.0.5` (an IPv4 client or local address on a dual-stack socket) → `10.0.0.5`; any other address
 * as it is. Only the IPv4-mapped form with a dotted quad is unwrapped (what Node reports), in any letter case;
 * `::ffff:a00:5` or a real IPv6 address stay IPv6.
 */
export function unmapIpv4(address: string): string {
  return address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:' && address.includes('.')
    ? address.slice(7)
    : address;
}
