/**
 * PXE vendor options (option 43 when option 60 is `PXEClient`), PXE spec 2.1 §2.4 table 2-1:
 * building the server's sub-options and parsing the client's (the boot-server request's boot item).
 */
import { EncodeError } from './decode-error.js';
import { decodeSubOptions, encodeSubOptions } from './option-values.js';
import { parseIp } from '../util/ipv4.js';
import { readIp } from './packet.js';

/** PXE option 43 sub-option codes. */
export const PXE_SUB = {
  MTFTP_IP: 1,
  MTFTP_CPORT: 2,
  MTFTP_SPORT: 3,
  MTFTP_TMOUT: 4,
  MTFTP_DELAY: 5,
  DISCOVERY_CONTROL: 6,
  DISCOVERY_MCAST_ADDR: 7,
  BOOT_SERVERS: 8,
  BOOT_MENU: 9,
  MENU_PROMPT: 10,
  MCAST_ADDRS_ALLOC: 11,
  CREDENTIAL_TYPES: 12,
  BOOT_ITEM: 71,
} as const;

/** Sub-option 6 bits. */
export const DISCOVERY = {
  /** Do not use broadcast discovery. */
  NO_BROADCAST: 1,
  /** Do not use multicast discovery. */
  NO_MULTICAST: 2,
  /** Only use/accept servers in the boot server list (sub-option 8). */
  SERVER_LIST_ONLY: 4,
  /** Skip discovery: download the boot file named in the offer (the common "bypass" value 8). */
  BYPASS: 8,
} as const;

/** A boot server type with its addresses (sub-option 8). */
export interface PxeBootServer {
  /** Boot server type, 0 = "PXE bootstrap server", 0x8000+ vendor types. */
  type: number;
  addresses: string[];
}

/** One boot menu line (sub-option 9). */
export interface PxeMenuItem {
  type: number;
  description: string;
}

/** The server-side option 43 content. Any field left out is not sent. */
export interface PxeVendorOptions {
  /** Sub-option 6 bit set (see `DISCOVERY`); 8 = boot from the file in the offer. */
  discoveryControl?: number;
  bootServers?: PxeBootServer[];
  menu?: PxeMenuItem[];
  /** Sub-option 10: seconds to wait (255 = wait for a key, 0 = pick the first item at once) and the text. */
  prompt?: { timeout: number; text: string };
  /** Sub-option 71 in an ACK from the boot server: the item served and its layer. */
  bootItem?: PxeBootItem;
  /** Extra raw sub-options, appended in order (e.g. a Raspberry Pi's `Raspberry Pi Boot` string). */
  extra?: Map<number, Buffer>;
}

/** Sub-option 71: the boot server type and layer (bit 15 of layer = credentials requested). */
export interface PxeBootItem {
  type: number;
  layer: number;
}

function u16(n: number, what: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff)
    throw new EncodeError('bad-option-value', `PXE ${what} ${n} is not 0..65535`);
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function shortString(s: string, what: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 255) throw new EncodeError('bad-option-value', `PXE ${what} is over 255 bytes`);
  return b;
}

/** Encodes option 43 for a PXE client: sub-options 6, 8, 9, 10, 71 then `extra`, ended by 255. */
export function buildPxeVendorOptions(opts: PxeVendorOptions): Buffer {
  const subs = new Map<number, Buffer>();
  if (opts.discoveryControl !== undefined) {
    const v = opts.discoveryControl;
    if (!Number.isInteger(v) || v < 0 || v > 255)
      throw new EncodeError('bad-option-value', `PXE discovery control ${v} is not 0..255`);
    subs.set(PXE_SUB.DISCOVERY_CONTROL, Buffer.from([v]));
  }
  if (opts.bootServers?.length) {
    const parts: Buffer[] = [];
    for (const s of opts.bootServers) {
      if (s.addresses.length > 255)
        throw new EncodeError('bad-option-value', 'PXE boot server list has over 255 addresses');
      parts.push(u16(s.type, 'boot server type'), Buffer.from([s.addresses.length]));
      for (const ip of s.addresses) {
        const v = parseIp(ip);
        if (v < 0) throw new EncodeError('bad-option-value', `PXE boot server '${ip}' is not IPv4`);
        const b = Buffer.allocUnsafe(4);
        b.writeUInt32BE(v, 0);
        parts.push(b);
      }
    }
    subs.set(PXE_SUB.BOOT_SERVERS, Buffer.concat(parts));
  }
  if (opts.menu?.length) {
    const parts: Buffer[] = [];
    for (const item of opts.menu) {
      const d = shortString(item.description, 'menu description');
      parts.push(u16(item.type, 'menu item type'), Buffer.from([d.length]), d);
    }
    subs.set(PXE_SUB.BOOT_MENU, Buffer.concat(parts));
  }
  if (opts.prompt) {
    const t = opts.prompt.timeout;
    if (!Number.isInteger(t) || t < 0 || t > 255)
      throw new EncodeError('bad-option-value', `PXE prompt timeout ${t} is not 0..255`);
    subs.set(PXE_SUB.MENU_PROMPT, Buffer.concat([Buffer.from([t]), shortString(opts.prompt.text, 'prompt')]));
  }
  if (opts.bootItem) {
    subs.set(
      PXE_SUB.BOOT_ITEM,
      Buffer.concat([u16(opts.bootItem.type, 'boot item type'), u16(opts.bootItem.layer, 'boot item layer')]),
    );
  }
  for (const [code, value] of opts.extra ?? []) subs.set(code, value);
  return encodeSubOptions(subs, true);
}

/** What a PXE client's (or another server's) option 43 says, as far as it parses. */
export interface ParsedPxeVendorOptions {
  /** Every sub-option, raw. */
  subOptions: Map<number, Buffer>;
  discoveryControl?: number;
  bootServers?: PxeBootServer[];
  menu?: PxeMenuItem[];
  prompt?: { timeout: number; text: string };
  /** Sub-option 71: in a client's boot-server REQUEST, the boot item it asks for. */
  bootItem?: PxeBootItem;
}

/**
 * Parses PXE option 43. Returns undefined if the TLV structure is broken; a sub-option whose own
 * content is malformed is left out of the typed fields but kept in `subOptions`.
 */
export function parsePxeVendorOptions(buf: Buffer): ParsedPxeVendorOptions | undefined {
  const subOptions = decodeSubOptions(buf);
  if (!subOptions) return undefined;
  const out: ParsedPxeVendorOptions = { subOptions };
  const dc = subOptions.get(PXE_SUB.DISCOVERY_CONTROL);
  if (dc?.length === 1) out.discoveryControl = dc[0]!;
  const item = subOptions.get(PXE_SUB.BOOT_ITEM);
  if (item?.length === 4) out.bootItem = { type: item.readUInt16BE(0), layer: item.readUInt16BE(2) };
  const servers = subOptions.get(PXE_SUB.BOOT_SERVERS);
  if (servers) out.bootServers = parseBootServers(servers);
  const menu = subOptions.get(PXE_SUB.BOOT_MENU);
  if (menu) out.menu = parseMenu(menu);
  const prompt = subOptions.get(PXE_SUB.MENU_PROMPT);
  if (prompt && prompt.length >= 1) out.prompt = { timeout: prompt[0]!, text: prompt.toString('utf8', 1) };
  if (out.bootServers === undefined) delete out.bootServers;
  if (out.menu === undefined) delete out.menu;
  return out;
}

function parseBootServers(buf: Buffer): PxeBootServer[] | undefined {
  const list: PxeBootServer[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 3 > buf.length) return undefined;
    const type = buf.readUInt16BE(i);
    const count = buf[i + 2]!;
    i += 3;
    if (i + count * 4 > buf.length) return undefined;
    const addresses: string[] = [];
    for (let k = 0; k < count; k++, i += 4) addresses.push(readIp(buf, i));
    list.push({ type, addresses });
  }
  return list;
}

function parseMenu(buf: Buffer): PxeMenuItem[] | undefined {
  const list: PxeMenuItem[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 3 > buf.length) return undefined;
    const type = buf.readUInt16BE(i);
    const len = buf[i + 2]!;
    if (i + 3 + len > buf.length) return undefined;
    list.push({ type, description: buf.toString('utf8', i + 3, i + 3 + len) });
    i += 3 + len;
  }
  return list;
}
