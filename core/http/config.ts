/** The `http` section of the config, as validated (defaults applied); core/config/schema.ts has its schema. */
export interface HttpConfig {
  enabled: boolean;
  port: number;
  address?: string;
  /** IPv6 listening address (`::`, one address, or `fe80::1%eth0`), a second socket on the same port. */
  address6?: string;
  /** How clients reach this server (`http://10.99.0.1`), for boot URLs. */
  baseUrl?: string;
  /** How IPv6 clients reach this server (`http://[fd77::1]:8080`); default in core/boot/url.ts. */
  baseUrl6?: string;
  /** Headers must arrive within this many ms (slowloris bound). */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
}
