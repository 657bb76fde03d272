/**
 * The DHCPv4 message shape (RFC 2131 §2, figure 1) and small address helpers shared by the codec.
 */
import { EncodeError } from './decode-error.js';
import { parseIp } from '../util/ipv4.js';

/** BOOTP `op` values. */
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;

/** DHCP message types, the value of option 53 (RFC 2132 §9.6). */
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

/** The same message types as one object, e.g. `MessageType.DISCOVER`. */
export const MessageType = {
  DISCOVER: DHCPDISCOVER,
  OFFER: DHCPOFFER,
  REQUEST: DHCPREQUEST,
  DECLINE: DHCPDECLINE,
  ACK: DHCPACK,
  NAK: DHCPNAK,
  RELEASE: DHCPRELEASE,
  INFORM: DHCPINFORM,
} as const;

const MESSAGE_TYPE_NAMES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

/** `'DISCOVER'` ... `'INFORM'` for 1..8, `'TYPE<n>'` for anything else (for logs). */
export function messageTypeName(type: number | undefined): string {
  if (type === undefined) return 'BOOTP';
  return MESSAGE_TYPE_NAMES[type] || `TYPE${type}`;
}

/** The broadcast bit of `flags` (RFC 2131 §2, figure 2). */
export const FLAG_BROADCAST = 0x8000;
/** True when the broadcast bit of `flags` is set (the client cannot take unicast before it is configured). */
export function wantsBroadcast(packet: Pick<DhcpPacket, 'flags'>): boolean {
  return (packet.flags & FLAG_BROADCAST) !== 0;
}

/** Ethernet `htype` (RFC 1700). */
export const HTYPE_ETHERNET = 1;
/** Server and client UDP ports (RFC 2131 §4.1), and the PXE boot server port. */
export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;
export const PXE_BOOT_SERVER_PORT = 4011;

/** Fixed-header layout (RFC 2131 §2). */
export const HEADER_SIZE = 236;
export const MAGIC_COOKIE = 0x63825363;
/** Header plus magic cookie: where options start. */
export const OPTIONS_OFFSET = 240;
/** The BOOTP minimum message size (RFC 951 / RFC 1542 §2.1); many PXE ROMs drop shorter replies. */
export const BOOTP_MIN_SIZE = 300;
/** The largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD = 65507;
export const SNAME_OFFSET = 44;
export const SNAME_SIZE = 64;
export const FILE_OFFSET = 108;
export const FILE_SIZE = 128;

/**
 * One DHCPv4 message. Addresses are dotted-quad strings; `options` keeps every option in wire order
 * as raw bytes so unknown options survive a decode/encode round trip byte for byte.
 *
 * Buffers produced by `decode()` (`chaddr`, option values) are views into the received datagram:
 * copy them if the datagram buffer is reused.
 */
export interface DhcpPacket {
  /** 1 = BOOTREQUEST (client → server), 2 = BOOTREPLY. */
  op: number;
  /** Hardware address type, 1 = Ethernet. */
  htype: number;
  /** Hardware address length (6 for Ethernet, at most 16). */
  hlen: number;
  /** Relay hop count. */
  hops: number;
  /** Transaction id, an unsigned 32-bit number. */
  xid: number;
  /** Seconds since the client began acquisition. */
  secs: number;
  /** The whole 16-bit flags field; only bit 15 (`FLAG_BROADCAST`) is defined. */
  flags: number;
  /** Client address, when the client is BOUND/RENEWING/REBINDING (`0.0.0.0` otherwise). */
  ciaddr: string;
  /** "Your" address: the address offered or assigned by a server. */
  yiaddr: string;
  /** Next server (TFTP boot server) address. */
  siaddr: string;
  /** Relay agent address; not `0.0.0.0` means the message came through a relay. */
  giaddr: string;
  /** The raw 16-byte client hardware address field. */
  chaddr: Buffer;
  /** `chaddr` cut to `hlen`, lowercase hex with colons (`52:54:00:77:ef:64`); set by `decode()`. */
  mac: string;
  /** Server host name field, NUL-trimmed (empty when overloaded with options). */
  sname: string;
  /** Boot file name field, NUL-trimmed (empty when overloaded with options). */
  file: string;
  /**
   * Options in wire order, code → raw value, without pad (0), end (255) and overload (52): `decode()`
   * applies option 52 and joins repeated codes (RFC 3396); `encode()` re-creates 52 itself when needed.
   */
  options: Map<number, Buffer>;
}

/** A blank packet with every field zero/empty; `op` defaults to BOOTREPLY. */
export function createPacket(fields: Partial<DhcpPacket> = {}): DhcpPacket {
  const chaddr = fields.chaddr ?? Buffer.alloc(16);
  const hlen = fields.hlen ?? 6;
  return {
    op: BOOTREPLY,
    htype: HTYPE_ETHERNET,
    hlen,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    sname: '',
    file: '',
    options: new Map(),
    ...fields,
    chaddr,
    mac: fields.mac ?? macString(chaddr, hlen),
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase colon-separated hex of `buf[0..len)`, e.g. for a MAC address. */
export function macString(buf: Buffer, len = buf.length): string {
  const n = Math.min(len, buf.length);
  let s = '';
  for (let i = 0; i < n; i++) s += i === 0 ? HEX[buf[i]!] : ':' + HEX[buf[i]!];
  return s;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into a 16-byte `chaddr`; returns undefined if malformed. */
export function chaddrFromMac(mac: string): Buffer | undefined {
  const parts = mac.split(/[:-]/);
  if (parts.length < 1 || parts.length > 16) return undefined;
  const out = Buffer.alloc(16);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** Dotted-quad string of the 4 bytes at `buf[offset]`. */
export function readIp(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Writes a dotted-quad address at `buf[offset]`; throws `EncodeError` if `ip` is not IPv4. */
export function writeIp(buf: Buffer, ip: string, offset: number, what = 'address'): void {
  const v = parseIp(ip);
  if (v < 0) throw new EncodeError('bad-field', `${what}: '${ip}' is not a dotted-quad IPv4 address`);
  buf.writeUInt32BE(v, offset);
}

/** True for `0.0.0.0` (and anything that parses to 0). */
export function isZeroIp(ip: string): boolean {
  return ip === '0.0.0.0' || parseIp(ip) === 0;
}
