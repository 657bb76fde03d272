import type { LevelWithSilent } from 'pino';
import type { DhcpConfig, DhcpPoolInput } from '../dhcp/config.js';
import type { Dhcp6Config, Dhcp6PoolInput } from '../dhcp6/config.js';
import type { HttpConfig } from '../http/config.js';
import type { PluginDefinition } from '../plugin.js';
import type { TftpConfig } from '../tftp/config.js';

// Each protocol owns its section's type (core/dhcp, core/tftp and core/http never import config/).
export type { DhcpConfig, DhcpPool, DhcpPoolInput, DhcpReservation } from '../dhcp/config.js';
export type { Dhcp6Config, Dhcp6PoolConfig, Dhcp6PoolInput, Dhcp6Reservation } from '../dhcp6/config.js';
export type { HttpConfig } from '../http/config.js';
export type { TftpConfig } from '../tftp/config.js';

/** A plugin as a config file names it: `"name"`, `["name", { options }]`, a package, or a path. */
export type PluginRef = string | [string] | [string, Record<string, unknown>];

export interface LogConfig {
  level: LevelWithSilent;
  pretty?: boolean;
}

/** The whole config, as validated (defaults applied). */
export interface PxeConfig {
  $schema?: string;
  interfaces?: string[];
  dhcp: DhcpConfig;
  dhcp6: Dhcp6Config;
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

/** What a config file or createServer() may pass: every section optional, and every key with a default. */
export type PxeConfigInput = {
  [K in keyof PxeConfig]?: K extends 'dhcp'
    ? Partial<Omit<DhcpConfig, 'pools'>> & { pools?: DhcpPoolInput[] }
    : K extends 'dhcp6'
      ? Partial<Omit<Dhcp6Config, 'pools'>> & { pools?: Dhcp6PoolInput[] }
      : K extends 'tftp' | 'http' | 'log' | 'hooks' | 'sessions'
        ? Partial<PxeConfig[K]>
        : PxeConfig[K];
};
