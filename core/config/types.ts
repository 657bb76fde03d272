import type { LevelWithSilent } from 'pino';
import type { PluginDefinition } from '../plugin.js';

/** A plugin as a config file names it: `"name"`, `["name", { options }]`, a package, or a path. */
export type PluginRef = string | [string] | [string, Record<string, unknown>];

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

export interface TftpConfig {
  enabled: boolean;
  port: number;
  address?: string;
  maxBlksize: number;
  windowsizeCap: number;
  /** All transfers through the listening port (NAT, containers) instead of one port per transfer. */
  singlePort: boolean;
  /** Transfer sockets: the native addon, node:dgram, or native when it was built. */
  transport: 'auto' | 'native' | 'dgram';
  maxTransfers: number;
  maxPerClient: number;
  /** Retransmit timeout when the client sets none, ms. */
  timeoutMs: number;
  retries: number;
}

export interface HttpConfig {
  enabled: boolean;
  port: number;
  address?: string;
  /** How clients reach this server (`http://10.99.0.1`), for boot URLs. */
  baseUrl?: string;
  /** Headers must arrive within this many ms (slowloris bound). */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export interface LogConfig {
  level: LevelWithSilent;
  pretty?: boolean;
}

/** The whole config, as validated (defaults applied). */
export interface PxeConfig {
  $schema?: string;
  interfaces?: string[];
  dhcp: DhcpConfig;
  tftp: TftpConfig;
  http: HttpConfig;
  log: LogConfig;
  hooks: { timeoutMs: number };
  sessions: { ttlSeconds: number; max: number };
  /** In a config file: refs. In createServer(): plugin instances (refs are resolved before). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- plugins of any options type
  plugins: Array<PluginRef | PluginDefinition<any>>;
  /** Graceful shutdown bound, ms: in-flight transfers get this long after listeners close. */
  shutdownTimeoutMs: number;
}

/** A pool as written in a config: `leaseTime` (3600) and `reservations` ([]) have defaults. */
export type DhcpPoolInput = Omit<DhcpPool, 'leaseTime' | 'reservations'> &
  Partial<Pick<DhcpPool, 'leaseTime' | 'reservations'>>;

/** What a config file or createServer() may pass: every section optional, and every key with a default. */
export type PxeConfigInput = {
  [K in keyof PxeConfig]?: K extends 'dhcp'
    ? Partial<Omit<DhcpConfig, 'pools'>> & { pools?: DhcpPoolInput[] }
    : K extends 'tftp' | 'http' | 'log' | 'hooks' | 'sessions'
      ? Partial<PxeConfig[K]>
      : PxeConfig[K];
};
