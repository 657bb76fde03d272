export interface DhcpReservation {
  mac: string;
  ip: string;
  hostname?: string;
}

export interface DhcpPool {
  /** CIDR, e.g. `10.99.0.0/24`. Requests are matched to a pool by giaddr or the receiving interface. */
  subnet: string;
  /** First and last address handed out. */
  range: [string, string];
  router?: string;
  dns?: string[];
  domain?: string;
  /** Seconds. */
  leaseTime: number;
  reservations: DhcpReservation[];
}

/** The `dhcp` section of the config, as validated (defaults applied); core/config/schema.ts has its schema. */
export interface DhcpConfig {
  mode: 'proxy' | 'full' | 'off';
  /** Server port (67); clients are answered on port + 1. */
  port: number;
  /** PXE boot-server port (4011), proxy mode. */
  pxePort: number;
  /** Bind address (default all: DHCP clients broadcast). */
  address?: string;
  /** Address announced as server identifier and next-server; default: the interface address. */
  serverAddress?: string;
  pools: DhcpPool[];
  /** Seconds to wait before an OFFER (a few ROMs fail on instant replies). */
  replyDelayMs: number;
  /** Send iPXE option 175.176 (no-pxedhcp) so iPXE stops waiting for ProxyDHCP offers (full mode). */
  ipxeNoPxeDhcp: boolean;
}

/** A pool as written in a config: `leaseTime` (3600) and `reservations` ([]) have defaults. */
export type DhcpPoolInput = Omit<DhcpPool, 'leaseTime' | 'reservations'> &
  Partial<Pick<DhcpPool, 'leaseTime' | 'reservations'>>;
