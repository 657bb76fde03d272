/** The `tftp` section of the config, as validated (defaults applied); core/config/schema.ts has its schema. */
export interface TftpConfig {
  enabled: boolean;
  port: number;
  address?: string;
  /** IPv6 listening address (`::`, one address, or `fe80::1%eth0`), a second socket on the same port. */
  address6?: string;
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
