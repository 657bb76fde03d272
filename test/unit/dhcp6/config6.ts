/**
 * The server config of the DHCPv6 unit tests: DHCPv4 and HTTP off, DHCPv6 in full mode as fd77::1, leasing
 * fd77::100–fd77::1ff from fd77::/64. `dhcp6` and `pool` override or add fields of that section and pool.
 */
import type { PxeConfigInput } from '../../../core/config/types.js';

export function dhcp6Config(dhcp6: Record<string, unknown> = {}, pool: Record<string, unknown> = {}): PxeConfigInput {
  return {
    dhcp: { mode: 'off' },
    http: { enabled: false, port: 8080 },
    dhcp6: {
      mode: 'full',
      serverAddress: 'fd77::1',
      pools: [{ prefix: 'fd77::/64', range: ['fd77::100', 'fd77::1ff'], ...pool }],
      ...dhcp6,
    },
  } as PxeConfigInput;
}
