import type { Logger } from 'pino';
import type { DhcpConfig } from '../dhcp/config.js';
import type { ProtocolHost } from '../hooks/host.js';
import type { HookRunner } from '../hooks/runner.js';
import type { ListeningAddress } from '../hooks/server.js';
import type { HttpConfig } from '../http/config.js';
import type { ProvidedRegistry } from '../provides.js';
import type { TftpConfig } from '../tftp/config.js';

/** A listener the server owns: bound in start(), released in close(). */
export interface ProtocolService {
  /** Bind sockets; resolves with what is listening (empty when disabled by config). */
  start(): Promise<ListeningAddress[]>;
  /** Stop accepting, give in-flight work up to `graceMs`, then release everything. */
  close(graceMs: number): Promise<void>;
}

/**
 * What the services need of the server that owns them: the protocol host they hand to the engines, plus
 * the hook runner (to create their hooks), the logger, the protocol sections of the config, the state and
 * what plugins provided.
 * The server passes itself; services never import server.ts.
 */
export interface ServiceHost extends ProtocolHost {
  readonly runner: HookRunner;
  readonly log: Logger;
  readonly config: {
    readonly interfaces?: string[];
    dhcp: DhcpConfig;
    /** Only the mode: IPv6 listeners default on when DHCPv6 hands out boot URLs. */
    readonly dhcp6?: { readonly mode: string };
    tftp: TftpConfig;
    http: HttpConfig;
  };
  readonly state: string;
  /** What plugins provided (the DHCP service reads `leaseStore`). */
  readonly provided: Pick<ProvidedRegistry, 'get'>;
}
