/** The `dhcp6` config section's type (the protocol owns it; config/ re-exports it). */

export interface Dhcp6Reservation {
  duid?: string;
  mac?: string;
  address: string;
  hostname?: string;
}

export interface Dhcp6PoolConfig {
  /** `fd77::/64`. */
  prefix: string;
  range: [string, string];
  preferredLifetime: number;
  validLifetime: number;
  reservations: Dhcp6Reservation[];
}

/** DHCPv6 (RFC 8415) and IPv6 netboot (RFC 5970). */
export interface Dhcp6Config {
  mode: 'off' | 'full' | 'boot-only';
  port: number;
  /** Boot-only mode: the PXE boot-server port (4011) where EDK2 asks for the boot file after a proxy Advertise. */
  pxePort: number;
  interfaces?: string[];
  serverAddress?: string;
  serverDuid?: string;
  rapidCommit: boolean;
  dns: string[];
  domainSearch: string[];
  pools: Dhcp6PoolConfig[];
}

/** A DHCPv6 pool as written: lifetimes and reservations have defaults. */
export type Dhcp6PoolInput = Pick<Dhcp6PoolConfig, 'prefix' | 'range'> &
  Partial<Omit<Dhcp6PoolConfig, 'prefix' | 'range'>>;
