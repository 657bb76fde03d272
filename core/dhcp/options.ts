/**
 * The table of known DHCPv4 options: code → name and value type. Sources: RFC 2132 (1-61, 64-76),
 * RFC 3004 (77), RFC 4702 (81), RFC 3046 (82), RFC 4578 (93, 94, 97), RFC 4833 (100, 101),
 * RFC 8925 (108), RFC 8910 (114), RFC 2563 (116), RFC 3011 (118), RFC 3397 (119), RFC 3442 (121),
 * RFC 3925 (124, 125), RFC 5859 (150), iPXE (175), RFC 5071 (208-211). Codes not listed decode as bytes.
 */

/**
 * How an option value is laid out:
 * - `ip` one IPv4 address; `ips` a list of them; `ippairs` a list of address pairs (21, 33)
 * - `u8`/`u16`/`u32` unsigned big-endian integers, `i32` signed; `bool` one byte 0/1
 * - `string` text (trailing NULs dropped on decode); `bytes` raw
 * - `u8list`/`u16list` lists of integers
 * - `routes` RFC 3442 classless static routes; `domains` RFC 1035 names (RFC 3397, compression allowed)
 * - `suboptions` code/length/value triples (82, 175), decoded to a `Map<number, Buffer>`
 */
export type OptionType =
  | 'ip'
  | 'ips'
  | 'ippairs'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'i32'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'u8list'
  | 'u16list'
  | 'routes'
  | 'domains'
  | 'suboptions';

/** One RFC 3442 classless route: `destination` in CIDR form (`10.0.0.0/8`, `0.0.0.0/0` for default). */
export interface ClasslessRoute {
  destination: string;
  router: string;
}

/** The TypeScript type of a decoded value, per `OptionType`. */
export interface OptionValueTypes {
  ip: string;
  ips: string[];
  ippairs: [string, string][];
  u8: number;
  u16: number;
  u32: number;
  i32: number;
  bool: boolean;
  string: string;
  bytes: Buffer;
  u8list: number[];
  u16list: number[];
  routes: ClasslessRoute[];
  domains: string[];
  suboptions: Map<number, Buffer>;
}

export interface OptionSpec {
  /** camelCase name, unique in the table. */
  name: string;
  type: OptionType;
}

export const OPTION_TABLE = {
  1: { name: 'subnetMask', type: 'ip' },
  2: { name: 'timeOffset', type: 'i32' },
  3: { name: 'router', type: 'ips' },
  4: { name: 'timeServer', type: 'ips' },
  5: { name: 'nameServer', type: 'ips' },
  6: { name: 'domainNameServer', type: 'ips' },
  7: { name: 'logServer', type: 'ips' },
  8: { name: 'cookieServer', type: 'ips' },
  9: { name: 'lprServer', type: 'ips' },
  10: { name: 'impressServer', type: 'ips' },
  11: { name: 'resourceLocationServer', type: 'ips' },
  12: { name: 'hostName', type: 'string' },
  13: { name: 'bootFileSize', type: 'u16' },
  14: { name: 'meritDumpFile', type: 'string' },
  15: { name: 'domainName', type: 'string' },
  16: { name: 'swapServer', type: 'ip' },
  17: { name: 'rootPath', type: 'string' },
  18: { name: 'extensionsPath', type: 'string' },
  19: { name: 'ipForwarding', type: 'bool' },
  20: { name: 'nonLocalSourceRouting', type: 'bool' },
  21: { name: 'policyFilter', type: 'ippairs' },
  22: { name: 'maxDatagramReassemblySize', type: 'u16' },
  23: { name: 'defaultIpTtl', type: 'u8' },
  24: { name: 'pathMtuAgingTimeout', type: 'u32' },
  25: { name: 'pathMtuPlateauTable', type: 'u16list' },
  26: { name: 'interfaceMtu', type: 'u16' },
  27: { name: 'allSubnetsAreLocal', type: 'bool' },
  28: { name: 'broadcastAddress', type: 'ip' },
  29: { name: 'performMaskDiscovery', type: 'bool' },
  30: { name: 'maskSupplier', type: 'bool' },
  31: { name: 'performRouterDiscovery', type: 'bool' },
  32: { name: 'routerSolicitationAddress', type: 'ip' },
  33: { name: 'staticRoute', type: 'ippairs' },
  34: { name: 'trailerEncapsulation', type: 'bool' },
  35: { name: 'arpCacheTimeout', type: 'u32' },
  36: { name: 'ethernetEncapsulation', type: 'bool' },
  37: { name: 'tcpDefaultTtl', type: 'u8' },
  38: { name: 'tcpKeepaliveInterval', type: 'u32' },
  39: { name: 'tcpKeepaliveGarbage', type: 'bool' },
  40: { name: 'nisDomain', type: 'string' },
  41: { name: 'nisServers', type: 'ips' },
  42: { name: 'ntpServers', type: 'ips' },
  43: { name: 'vendorSpecific', type: 'bytes' },
  44: { name: 'netbiosNameServers', type: 'ips' },
  45: { name: 'netbiosDatagramDistributionServers', type: 'ips' },
  46: { name: 'netbiosNodeType', type: 'u8' },
  47: { name: 'netbiosScope', type: 'string' },
  48: { name: 'xFontServers', type: 'ips' },
  49: { name: 'xDisplayManagers', type: 'ips' },
  50: { name: 'requestedIpAddress', type: 'ip' },
  51: { name: 'leaseTime', type: 'u32' },
  52: { name: 'overload', type: 'u8' },
  53: { name: 'messageType', type: 'u8' },
  54: { name: 'serverIdentifier', type: 'ip' },
  55: { name: 'parameterRequestList', type: 'u8list' },
  56: { name: 'message', type: 'string' },
  57: { name: 'maxMessageSize', type: 'u16' },
  58: { name: 'renewalTime', type: 'u32' },
  59: { name: 'rebindingTime', type: 'u32' },
  60: { name: 'vendorClassIdentifier', type: 'string' },
  61: { name: 'clientIdentifier', type: 'bytes' },
  62: { name: 'netwareIpDomain', type: 'string' },
  63: { name: 'netwareIpInformation', type: 'bytes' },
  64: { name: 'nisPlusDomain', type: 'string' },
  65: { name: 'nisPlusServers', type: 'ips' },
  66: { name: 'tftpServerName', type: 'string' },
  67: { name: 'bootFileName', type: 'string' },
  68: { name: 'mobileIpHomeAgents', type: 'ips' },
  69: { name: 'smtpServers', type: 'ips' },
  70: { name: 'pop3Servers', type: 'ips' },
  71: { name: 'nntpServers', type: 'ips' },
  72: { name: 'wwwServers', type: 'ips' },
  73: { name: 'fingerServers', type: 'ips' },
  74: { name: 'ircServers', type: 'ips' },
  75: { name: 'streetTalkServers', type: 'ips' },
  76: { name: 'stdaServers', type: 'ips' },
  // 77 is raw bytes: iPXE sends a bare string, RFC 3004 clients length-prefix each class (see pxe.ts).
  77: { name: 'userClass', type: 'bytes' },
  80: { name: 'rapidCommit', type: 'bytes' },
  81: { name: 'clientFqdn', type: 'bytes' },
  82: { name: 'relayAgentInformation', type: 'suboptions' },
  90: { name: 'authentication', type: 'bytes' },
  93: { name: 'clientSystemArchitecture', type: 'u16list' },
  94: { name: 'clientNetworkInterface', type: 'bytes' },
  97: { name: 'clientMachineId', type: 'bytes' },
  100: { name: 'posixTimezone', type: 'string' },
  101: { name: 'tzdbTimezone', type: 'string' },
  108: { name: 'ipv6OnlyPreferred', type: 'u32' },
  114: { name: 'captivePortal', type: 'string' },
  116: { name: 'autoConfigure', type: 'u8' },
  118: { name: 'subnetSelection', type: 'ip' },
  119: { name: 'domainSearch', type: 'domains' },
  121: { name: 'classlessStaticRoute', type: 'routes' },
  124: { name: 'vendorIdentifyingVendorClass', type: 'bytes' },
  125: { name: 'vendorIdentifyingVendorInfo', type: 'bytes' },
  150: { name: 'tftpServerAddress', type: 'ips' },
  175: { name: 'ipxeEncapsulated', type: 'suboptions' },
  208: { name: 'pxelinuxMagic', type: 'bytes' },
  209: { name: 'pxelinuxConfigFile', type: 'string' },
  210: { name: 'pxelinuxPathPrefix', type: 'string' },
  211: { name: 'pxelinuxRebootTime', type: 'u32' },
  249: { name: 'msClasslessStaticRoute', type: 'routes' },
  252: { name: 'wpadUrl', type: 'string' },
} as const satisfies Record<number, OptionSpec>;

/** Every code in the table, as a literal union (`1 | 2 | ... | 252`). */
export type KnownOptionCode = keyof typeof OPTION_TABLE;
/** Every name in the table. */
export type OptionName = (typeof OPTION_TABLE)[KnownOptionCode]['name'];

/** Any decoded option value. */
export type AnyOptionValue = OptionValueTypes[OptionType];

/**
 * The decoded value type of option `C`: the table's type for a known literal code, `Buffer` for an
 * unknown literal code, and `AnyOptionValue` when the code is only known as `number`.
 */
export type OptionValue<C extends number> = number extends C
  ? AnyOptionValue
  : C extends KnownOptionCode
    ? OptionValueTypes[(typeof OPTION_TABLE)[C]['type']]
    : Buffer;

const TABLE: Record<number, OptionSpec | undefined> = OPTION_TABLE;

/** The table entry for `code`, or undefined for an unknown code. */
export function optionSpec(code: number): OptionSpec | undefined {
  return TABLE[code];
}

/** The value type of `code` (`bytes` for unknown codes). */
export function optionType(code: number): OptionType {
  return TABLE[code]?.type ?? 'bytes';
}

/** Name → code, e.g. `OPTION_CODES.bootFileName === 67`. */
export const OPTION_CODES = Object.fromEntries(
  Object.entries(OPTION_TABLE).map(([code, spec]) => [spec.name, Number(code)]),
) as Record<OptionName, KnownOptionCode>;

/** A readable name for logs: the table name, or `option<code>`. */
export function optionName(code: number): string {
  return TABLE[code]?.name ?? `option${code}`;
}
