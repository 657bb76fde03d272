/** The `dhcp6` section of the core config schema: the DHCPv6 server (RFC 8415) and IPv6 netboot (RFC 5970). */
const ipv6 = { type: 'string', format: 'ipv6' };
const lifetime = (def: number, what: string) => ({
  type: 'integer',
  minimum: 60,
  maximum: 4294967295,
  default: def,
  description: what,
});

export const dhcp6Schema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'DHCPv6 (RFC 8415) with boot file URLs (RFC 5970): a full server with IA_NA pools, boot options only ' +
    'beside another DHCPv6 server, or off.',
  properties: {
    mode: {
      enum: ['off', 'full', 'boot-only'],
      default: 'off',
      description:
        'full: addresses from pools plus boot options. boot-only: beside an existing DHCPv6 server, answer ' +
        'only with boot options (Information-request, and Solicit/Request of netboot clients with no address). off: no DHCPv6.',
    },
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      default: 547,
      description: 'DHCPv6 server port; clients are answered on port - 1 (546), relays on this port.',
    },
    pxePort: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      default: 4011,
      description:
        'Boot-only mode: the PXE boot-server port, bound on serverAddress. UEFI firmware (EDK2) that took its ' +
        'address from another server asks here, by unicast from its new address, for the boot file URL.',
    },
    interfaces: {
      type: 'array',
      items: { type: 'string' },
      description:
        'Interfaces whose link the server joins All_DHCP_Relay_Agents_and_Servers (ff02::1:2) on. Default: the ' +
        'top-level interfaces, else every interface with IPv6.',
    },
    serverAddress: {
      ...ipv6,
      description:
        'Address put in boot file URLs (tftp://[addr]/file, http://[addr]/...). Default: the first global ' +
        'address of the first served interface.',
    },
    serverDuid: {
      type: 'string',
      pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2})+$',
      description: 'Server DUID as hex. Default: DUID-LL of the first served interface (stable across restarts).',
    },
    rapidCommit: {
      type: 'boolean',
      default: true,
      description: 'Answer a Solicit with Rapid Commit by a Reply at once.',
    },
    dns: { type: 'array', items: ipv6, default: [], description: 'DNS servers (option 23), sent when asked.' },
    domainSearch: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Domain search list (option 24).',
    },
    pools: {
      type: 'array',
      default: [],
      description: 'Full mode: IA_NA address pools, one per link prefix.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['prefix', 'range'],
        properties: {
          prefix: { type: 'string', description: 'Link prefix in CIDR form, e.g. fd77::/64.' },
          range: {
            type: 'array',
            items: ipv6,
            minItems: 2,
            maxItems: 2,
            description: 'First and last address to hand out, e.g. [fd77::100, fd77::1ff].',
          },
          preferredLifetime: lifetime(3600, 'Preferred lifetime in seconds (T1/T2 are 0.5 and 0.8 of it).'),
          validLifetime: lifetime(7200, 'Valid lifetime in seconds (how long a binding lasts).'),
          reservations: {
            type: 'array',
            default: [],
            description:
              'Static addresses by DUID (hex) or by MAC (from the DUID-LL/LLT, the relay option 79 or the EUI-64 link-local address).',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['address'],
              properties: {
                duid: {
                  type: 'string',
                  pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2})+$',
                  description: 'Client DUID as hex.',
                },
                mac: {
                  type: 'string',
                  pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$',
                  description: 'Client MAC, e.g. 52:54:00:12:34:56.',
                },
                address: { ...ipv6, description: 'The reserved address (inside the prefix).' },
                hostname: { type: 'string', description: 'Host name, for logs.' },
              },
            },
          },
        },
      },
    },
  },
} as const;
