import type { ServiceHost } from './types.js';

/**
 * The IPv6 listening address of TFTP or HTTP: `address6` when set, else `::` while DHCPv6 runs (its boot
 * URLs, option 59, point at this server's IPv6 address), else none.
 */
export function ipv6ListenAddress(
  config: ServiceHost['config'],
  section: { readonly address6?: string | undefined },
): string | undefined {
  if (section.address6 !== undefined) return section.address6;
  return config.dhcp6 && config.dhcp6.mode !== 'off' ? '::' : undefined;
}
