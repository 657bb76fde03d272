import type { ServiceHost } from './types.js';

/**
 * The IPv6 listening address of TFTP or HTTP: `address6` when set; while DHCPv6 runs (its boot URLs, option
 * 59, point at this server), `dhcp6.serverAddress` for TFTP when set — a transfer socket on `::` answers from
 * whatever source address the kernel picks, and UEFI firmware drops an OACK from another address than the
 * one in the URL (docs/ipv6.md, firmware) — else `::`; otherwise none.
 */
export function ipv6ListenAddress(
  config: ServiceHost['config'],
  section: { readonly address6?: string | undefined },
  protocol: 'tftp' | 'http',
): string | undefined {
  if (section.address6 !== undefined) return section.address6;
  const dhcp6 = config.dhcp6;
  if (!dhcp6 || dhcp6.mode === 'off') return undefined;
  return protocol === 'tftp' && dhcp6.serverAddress ? dhcp6.serverAddress : '::';
}
