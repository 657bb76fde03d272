/**
 * DHCPv6 numbers: message types and option codes (RFC 8415 §7.3 and §24, RFC 5970, RFC 6939),
 * status codes (§21.13) and DUID types (§11). Ports: clients listen on 546, servers and relays on 547.
 */

export const CLIENT_PORT = 546;
export const SERVER_PORT = 547;
/** All_DHCP_Relay_Agents_and_Servers (link-scoped multicast every client sends to). */
export const ALL_RELAYS_AND_SERVERS = 'ff02::1:2';
/** A relay message may pass through at most this many relays (RFC 8415 §7.6 HOP_COUNT_LIMIT). */
export const HOP_COUNT_LIMIT = 8;

export const MessageType = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
  RELAY_FORW: 12,
  RELAY_REPL: 13,
} as const;

const MESSAGE_NAMES: Record<number, string> = {
  1: 'SOLICIT',
  2: 'ADVERTISE',
  3: 'REQUEST',
  4: 'CONFIRM',
  5: 'RENEW',
  6: 'REBIND',
  7: 'REPLY',
  8: 'RELEASE',
  9: 'DECLINE',
  10: 'RECONFIGURE',
  11: 'INFORMATION-REQUEST',
  12: 'RELAY-FORW',
  13: 'RELAY-REPL',
};

/** `SOLICIT`, `RELAY-FORW`, ... or `TYPE-<n>` for a type this codec has no name for. */
export function messageTypeName(type: number): string {
  return MESSAGE_NAMES[type] ?? `TYPE-${type}`;
}

/** Relay-forward and Relay-reply use the relay header (hop count, link and peer address). */
export function isRelayType(type: number): boolean {
  return type === MessageType.RELAY_FORW || type === MessageType.RELAY_REPL;
}

export const OptionCode = {
  CLIENTID: 1,
  SERVERID: 2,
  IA_NA: 3,
  IA_TA: 4,
  IAADDR: 5,
  ORO: 6,
  PREFERENCE: 7,
  ELAPSED_TIME: 8,
  RELAY_MSG: 9,
  AUTH: 11,
  UNICAST: 12,
  STATUS_CODE: 13,
  RAPID_COMMIT: 14,
  USER_CLASS: 15,
  VENDOR_CLASS: 16,
  VENDOR_OPTS: 17,
  INTERFACE_ID: 18,
  RECONF_MSG: 19,
  RECONF_ACCEPT: 20,
  DNS_SERVERS: 23,
  DOMAIN_LIST: 24,
  IA_PD: 25,
  IAPREFIX: 26,
  INFORMATION_REFRESH_TIME: 32,
  BOOTFILE_URL: 59,
  BOOTFILE_PARAM: 60,
  CLIENT_ARCH_TYPE: 61,
  NII: 62,
  CLIENT_LINKLAYER_ADDR: 79,
  SOL_MAX_RT: 82,
  INF_MAX_RT: 83,
  /** RFC 8357: a relay that sends from another port than 547 says so; the Relay-reply goes to that port. */
  RELAY_SOURCE_PORT: 135,
} as const;

export const StatusCode = {
  Success: 0,
  UnspecFail: 1,
  NoAddrsAvail: 2,
  NoBinding: 3,
  NotOnLink: 4,
  UseMulticast: 5,
  NoPrefixAvail: 6,
} as const;

export const DuidType = { LLT: 1, EN: 2, LL: 3, UUID: 4 } as const;

/** IANA enterprise number of Intel, which RFC 5970 clients (EDK2) put in option 16. */
export const ENTERPRISE_INTEL = 343;
/** "Infinity" for lifetimes and T1/T2 (RFC 8415 §7.7). */
export const INFINITY = 0xffffffff;
