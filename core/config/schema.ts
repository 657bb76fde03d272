/**
 * The JSON Schema of the core config (plugins have their own `optionsSchema`). Also written to
 * `schema/pxekit.schema.json` for editors (`"$schema": "./node_modules/pxekit/schema/pxekit.schema.json"`);
 * a test keeps the file in sync. Every property has a description: docs/config.md is generated from it.
 */
import { dhcp6Schema } from './schema-dhcp6.js';

const port = (def: number, what: string) => ({
  type: 'integer',
  minimum: 0,
  maximum: 65535,
  default: def,
  description: what,
});
const ipv4 = { type: 'string', format: 'ipv4' };
/** An IPv6 address to listen on; a link-local one with its zone (`fe80::1%eth0`), which format ipv6 refuses. */
const ipv6Listen = (what: string, whileDhcp6: string) => ({
  type: 'string',
  pattern: '^(?=.*:)[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$',
  description:
    `${what} IPv6 listening address, its own socket on the same port: :: (all), one address, or a ` +
    `link-local address with its zone (fe80::1%eth0). Default while dhcp6.mode is not off (its boot URLs ` +
    `point here): ${whileDhcp6}; otherwise none.`,
});
const mac = {
  type: 'string',
  pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$',
  description: 'MAC address, e.g. 52:54:00:12:34:56',
};

export const coreConfigSchema = {
  $id: 'https://pxekit.dev/schema/pxekit.schema.json',
  title: 'pxekit config',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema, for editor autocompletion.' },
    interfaces: {
      type: 'array',
      items: { type: 'string' },
      description: 'Network interface names (eth0) or IPv4 addresses to serve on. Default: all.',
    },
    dhcp: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'DHCP: ProxyDHCP beside an existing server, a full server with leases, or off.',
      properties: {
        mode: {
          enum: ['proxy', 'full', 'off'],
          default: 'proxy',
          description:
            'proxy: boot info only, next to the site DHCP server (ports 67 and 4011). full: hand out addresses from pools. off: no DHCP.',
        },
        port: port(67, 'DHCP server port; clients are answered on port + 1. Tests use unprivileged ports.'),
        pxePort: port(4011, 'PXE boot-server port (proxy mode).'),
        address: { ...ipv4, description: 'Bind address. Default: all addresses (clients broadcast).' },
        serverAddress: {
          ...ipv4,
          description:
            'Address announced as server identifier and next-server. Default: the address of the interface the request came in on.',
        },
        replyDelayMs: {
          type: 'integer',
          minimum: 0,
          maximum: 10000,
          default: 0,
          description: 'Delay before each OFFER, for ROMs that miss instant replies.',
        },
        ipxeNoPxeDhcp: {
          type: 'boolean',
          default: true,
          description:
            'Full mode: tell iPXE (option 175.176) not to wait for ProxyDHCP offers; saves ~3 s per iPXE boot.',
        },
        pools: {
          type: 'array',
          default: [],
          description: 'Full mode: address pools, one per subnet.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['subnet', 'range'],
            properties: {
              subnet: {
                type: 'string',
                pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
                description: 'Subnet in CIDR form, e.g. 10.99.0.0/24.',
              },
              range: {
                type: 'array',
                items: ipv4,
                minItems: 2,
                maxItems: 2,
                description: 'First and last address to hand out, e.g. [10.99.0.100, 10.99.0.250].',
              },
              router: { ...ipv4, description: 'Default gateway (option 3).' },
              dns: { type: 'array', items: ipv4, description: 'DNS servers (option 6).' },
              domain: { type: 'string', description: 'Domain name (option 15).' },
              leaseTime: {
                type: 'integer',
                minimum: 60,
                default: 3600,
                description: 'Lease time in seconds (option 51).',
              },
              reservations: {
                type: 'array',
                default: [],
                description: 'Static addresses by MAC.',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['mac', 'ip'],
                  properties: { mac, ip: ipv4, hostname: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    dhcp6: dhcp6Schema,
    tftp: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Read-only TFTP server (RFC 1350, 2347-2349, 7440).',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Run the TFTP server.' },
        port: port(69, 'TFTP port.'),
        address: {
          ...ipv4,
          description:
            'Bind address. Default: all (with the native addon each answer leaves from the address its request ' +
            "went to; on dgram the kernel's choice).",
        },
        address6: ipv6Listen(
          'TFTP',
          "dhcp6.serverAddress when set (UEFI firmware drops an OACK from another address than the URL's), else ::",
        ),
        maxBlksize: {
          type: 'integer',
          minimum: 512,
          maximum: 65464,
          default: 1468,
          description: 'Largest blksize granted (1468 fits a 1500-byte MTU).',
        },
        windowsizeCap: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
          default: 64,
          description: 'Largest windowsize granted (RFC 7440).',
        },
        singlePort: {
          type: 'boolean',
          default: false,
          description: 'Serve every transfer from the listening port (for NAT and containers).',
        },
        transport: {
          enum: ['auto', 'native', 'dgram'],
          default: 'auto',
          description:
            'Transfer sockets: native (the addon npm ci builds; less CPU per packet; answers from the address ' +
            'each request went to), dgram (node:dgram), auto: native when built.',
        },
        maxTransfers: {
          type: 'integer',
          minimum: 1,
          default: 1000,
          description: 'Concurrent transfers overall; more get an error packet.',
        },
        maxPerClient: {
          type: 'integer',
          minimum: 1,
          default: 16,
          description: 'Concurrent transfers per client address.',
        },
        timeoutMs: {
          type: 'integer',
          minimum: 100,
          maximum: 255000,
          default: 1000,
          description: 'Retransmit timeout when the client negotiates none.',
        },
        retries: {
          type: 'integer',
          minimum: 1,
          maximum: 50,
          default: 5,
          description: 'Retransmissions before a transfer is abandoned.',
        },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'HTTP server for images and per-host scripts (GET/HEAD, Range, conditional requests).',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Run the HTTP server.' },
        port: port(80, 'HTTP port.'),
        address: {
          ...ipv4,
          description:
            'IPv4 bind address. Default: all addresses, IPv4 and IPv6 on one socket (unless address6 is set).',
        },
        address6: ipv6Listen('HTTP', '::'),
        baseUrl: {
          type: 'string',
          pattern: '^https?://',
          description:
            'How clients reach this server, e.g. http://10.99.0.1 — used to build boot URLs. Default: ' +
            'http://<address the client used>:<port>.',
        },
        baseUrl6: {
          type: 'string',
          pattern: '^https?://',
          description:
            'How IPv6 clients (DHCPv6, HTTP over IPv6) reach this server, e.g. http://[fd77::1]:8080. Default: ' +
            'baseUrl when its host is a name (it may have an AAAA record), else http://[<address the client used>]:<port>.',
        },
        headersTimeoutMs: {
          type: 'integer',
          minimum: 1000,
          default: 10000,
          description: 'Request headers must arrive within this time (slow-client bound).',
        },
        keepAliveTimeoutMs: {
          type: 'integer',
          minimum: 1000,
          default: 30000,
          description: 'Idle keep-alive connections close after this time.',
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Logging (pino): JSON lines, or pretty on a terminal.',
      properties: {
        level: {
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          description: 'Log level; --log-level and PXEKIT_LOG_LEVEL override it.',
        },
        pretty: { type: 'boolean', description: 'Human-readable logs. Default: when stdout is a terminal.' },
      },
    },
    hooks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Hook runner settings.',
      properties: {
        timeoutMs: {
          type: 'integer',
          minimum: 10,
          maximum: 600000,
          default: 2000,
          description: 'Async taps on per-packet hooks are cut off after this (below firmware retransmit times).',
        },
      },
    },
    sessions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Boot sessions: what the server learned about each client, linking DHCP, TFTP and HTTP.',
      properties: {
        ttlSeconds: {
          type: 'integer',
          minimum: 1,
          default: 3600,
          description: 'Forget a client this long after it was last seen.',
        },
        max: {
          type: 'integer',
          minimum: 1,
          default: 50000,
          description: 'Most clients remembered (least recently seen evicted).',
        },
      },
    },
    shutdownTimeoutMs: {
      type: 'integer',
      minimum: 0,
      default: 10000,
      description: 'On SIGINT/SIGTERM, in-flight transfers get this long to finish.',
    },
    plugins: {
      type: 'array',
      default: [],
      description:
        'Plugins, applied in this order: a built-in name, an npm package, or a path (./my-plugin.mjs), alone or as [name, options].',
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, maxItems: 2, items: [{ type: 'string', minLength: 1 }, { type: 'object' }] },
          { type: 'object', description: 'A plugin instance (createServer() only).' },
        ],
      },
    },
  },
} as const;
