/**
 * Typed option values: decode a raw option per its `OptionType`, encode a typed value back to bytes,
 * and `getOption`/`setOption` on a packet. Decoding is strict about lengths (a wrong length throws
 * `DecodeError('bad-option-value')`), because a silently mis-read lease time or address is worse
 * than a dropped packet.
 */
import { DecodeError, EncodeError } from './decode-error.js';
import { optionName, optionType } from './options.js';
import type { ClasslessRoute, OptionType, OptionValue, OptionValueTypes } from './options.js';
import { parseIp } from '../util/ipv4.js';
import { readIp } from './packet.js';
import type { DhcpPacket } from './packet.js';
import { decodeDomains, encodeDomains } from './domain-names.js';

function bad(code: number, why: string): DecodeError {
  return new DecodeError('bad-option-value', `option ${code} (${optionName(code)}): ${why}`);
}

function badValue(code: number, why: string): EncodeError {
  return new EncodeError('bad-option-value', `option ${code} (${optionName(code)}): ${why}`);
}

function fixed(code: number, buf: Buffer, n: number): void {
  if (buf.length !== n) throw bad(code, `length ${buf.length}, expected ${n}`);
}

function multiple(code: number, buf: Buffer, n: number): void {
  if (buf.length % n !== 0) throw bad(code, `length ${buf.length} is not a multiple of ${n}`);
}

/** Decodes raw option bytes as `type`. Throws `DecodeError('bad-option-value')` on a malformed value. */
export function decodeOptionValue<T extends OptionType>(type: T, buf: Buffer, code = 0): OptionValueTypes[T] {
  return decodeAny(type, buf, code) as OptionValueTypes[T];
}

function decodeAny(type: OptionType, buf: Buffer, code: number): OptionValueTypes[OptionType] {
  switch (type) {
    case 'ip':
      fixed(code, buf, 4);
      return readIp(buf, 0);
    case 'ips': {
      multiple(code, buf, 4);
      const out: string[] = [];
      for (let i = 0; i < buf.length; i += 4) out.push(readIp(buf, i));
      return out;
    }
    case 'ippairs': {
      multiple(code, buf, 8);
      const out: [string, string][] = [];
      for (let i = 0; i < buf.length; i += 8) out.push([readIp(buf, i), readIp(buf, i + 4)]);
      return out;
    }
    case 'u8':
      fixed(code, buf, 1);
      return buf[0]!;
    case 'bool':
      fixed(code, buf, 1);
      return buf[0] !== 0;
    case 'u16':
      fixed(code, buf, 2);
      return buf.readUInt16BE(0);
    case 'u32':
      fixed(code, buf, 4);
      return buf.readUInt32BE(0);
    case 'i32':
      fixed(code, buf, 4);
      return buf.readInt32BE(0);
    case 'string': {
      // Many servers and clients NUL-terminate strings (dnsmasq sends `ipxe.efi\0` in option 67).
      let end = buf.length;
      while (end > 0 && buf[end - 1] === 0) end--;
      return buf.toString('utf8', 0, end);
    }
    case 'bytes':
      return buf;
    case 'u8list':
      return Array.from(buf);
    case 'u16list': {
      multiple(code, buf, 2);
      const out: number[] = [];
      for (let i = 0; i < buf.length; i += 2) out.push(buf.readUInt16BE(i));
      return out;
    }
    case 'routes':
      return decodeRoutes(buf, code);
    case 'domains': {
      const names = decodeDomains(buf);
      if (names === undefined) throw bad(code, 'malformed domain name list');
      return names;
    }
    case 'suboptions': {
      const map = decodeSubOptions(buf);
      if (map === undefined) throw bad(code, 'sub-option runs past the end');
      return map;
    }
  }
}

/** RFC 3442 §3: width byte, ceil(width/8) significant destination bytes, router address. */
function decodeRoutes(buf: Buffer, code: number): ClasslessRoute[] {
  const out: ClasslessRoute[] = [];
  let i = 0;
  while (i < buf.length) {
    const width = buf[i]!;
    if (width > 32) throw bad(code, `route prefix length ${width} > 32`);
    const sig = (width + 7) >> 3;
    if (i + 1 + sig + 4 > buf.length) throw bad(code, 'route runs past the end');
    const dst = [0, 0, 0, 0];
    for (let k = 0; k < sig; k++) dst[k] = buf[i + 1 + k]!;
    out.push({ destination: `${dst.join('.')}/${width}`, router: readIp(buf, i + 1 + sig) });
    i += 1 + sig + 4;
  }
  return out;
}

/**
 * Parses code/length/value sub-options (options 43, 82, 175). Pad (0) is skipped and end (255) stops,
 * as in the PXE and iPXE encapsulations; repeated codes are joined. Returns undefined on an overrun.
 */
export function decodeSubOptions(buf: Buffer): Map<number, Buffer> | undefined {
  const map = new Map<number, Buffer>();
  let i = 0;
  while (i < buf.length) {
    const code = buf[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    if (i + 1 >= buf.length) return undefined;
    const end = i + 2 + buf[i + 1]!;
    if (end > buf.length) return undefined;
    const value = buf.subarray(i + 2, end);
    const prev = map.get(code);
    map.set(code, prev === undefined ? value : Buffer.concat([prev, value]));
    i = end;
  }
  return map;
}

/** Serialises sub-options in map order (each at most 255 bytes), with a trailing end (255) if `end`. */
export function encodeSubOptions(map: Map<number, Buffer>, end = false): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of map) {
    if (!Number.isInteger(code) || code < 1 || code > 254)
      throw new EncodeError('bad-option-value', `sub-option code ${code} is not 1..254`);
    if (value.length > 255)
      throw new EncodeError('bad-option-value', `sub-option ${code} is ${value.length} bytes (max 255)`);
    parts.push(Buffer.from([code, value.length]), value);
  }
  if (end) parts.push(Buffer.from([255]));
  return Buffer.concat(parts);
}

function ipBytes(ip: unknown, code: number): Buffer {
  const v = typeof ip === 'string' ? parseIp(ip) : -1;
  if (v < 0) throw badValue(code, `'${String(ip)}' is not an IPv4 address`);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v, 0);
  return b;
}

function uint(value: unknown, max: number, code: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw badValue(code, `${String(value)} is not an integer in 0..${max}`);
  }
  return value;
}

function list(value: unknown, code: number): unknown[] {
  if (!Array.isArray(value)) throw badValue(code, 'expected an array');
  return value;
}

/** Encodes a typed value as `type`. Throws `EncodeError('bad-option-value')` if it does not fit the type. */
export function encodeOptionValue<T extends OptionType>(type: T, value: OptionValueTypes[T], code = 0): Buffer {
  const v: unknown = value;
  switch (type) {
    case 'ip':
      return ipBytes(v, code);
    case 'ips':
      return Buffer.concat(list(v, code).map((ip) => ipBytes(ip, code)));
    case 'ippairs':
      return Buffer.concat(
        list(v, code).flatMap((pair) => {
          if (!Array.isArray(pair) || pair.length !== 2) throw badValue(code, 'expected [address, address] pairs');
          return [ipBytes(pair[0], code), ipBytes(pair[1], code)];
        }),
      );
    case 'u8':
      return Buffer.from([uint(v, 0xff, code)]);
    case 'bool':
      if (typeof v !== 'boolean') throw badValue(code, 'expected a boolean');
      return Buffer.from([v ? 1 : 0]);
    case 'u16': {
      const b = Buffer.allocUnsafe(2);
      b.writeUInt16BE(uint(v, 0xffff, code), 0);
      return b;
    }
    case 'u32': {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32BE(uint(v, 0xffffffff, code), 0);
      return b;
    }
    case 'i32': {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff)
        throw badValue(code, `${String(v)} is not a 32-bit integer`);
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(v, 0);
      return b;
    }
    case 'string':
      if (typeof v !== 'string') throw badValue(code, 'expected a string');
      return Buffer.from(v, 'utf8');
    case 'bytes':
      if (!Buffer.isBuffer(v)) throw badValue(code, 'expected a Buffer');
      return v;
    case 'u8list':
      return Buffer.from(list(v, code).map((n) => uint(n, 0xff, code)));
    case 'u16list': {
      const items = list(v, code);
      const b = Buffer.allocUnsafe(items.length * 2);
      items.forEach((n, i) => b.writeUInt16BE(uint(n, 0xffff, code), i * 2));
      return b;
    }
    case 'routes':
      return encodeRoutes(list(v, code), code);
    case 'domains': {
      const names = list(v, code);
      if (!names.every((n): n is string => typeof n === 'string')) throw badValue(code, 'expected domain name strings');
      const out = encodeDomains(names);
      if (out === undefined) throw badValue(code, 'a domain name has an empty or over-long label');
      return out;
    }
    case 'suboptions':
      if (!(v instanceof Map)) throw badValue(code, 'expected a Map<number, Buffer>');
      return encodeSubOptions(v as Map<number, Buffer>);
  }
  throw badValue(code, `unknown type ${String(type)}`);
}

function encodeRoutes(routes: unknown[], code: number): Buffer {
  const parts: Buffer[] = [];
  for (const r of routes) {
    const route = r as Partial<ClasslessRoute> | null;
    const [net, width = ''] = typeof route?.destination === 'string' ? route.destination.split('/') : [];
    const w = /^\d{1,2}$/.test(width) ? Number(width) : -1;
    if (net === undefined || w < 0 || w > 32)
      throw badValue(code, `route destination '${String(route?.destination)}' is not a.b.c.d/n`);
    const dst = ipBytes(net, code);
    parts.push(Buffer.from([w]), dst.subarray(0, (w + 7) >> 3), ipBytes(route?.router, code));
  }
  return Buffer.concat(parts);
}

/**
 * The decoded value of option `code` in `packet`, typed by the option table (`Buffer` for unknown
 * codes), or undefined when absent. Throws `DecodeError('bad-option-value')` on a malformed value.
 */
export function getOption<C extends number>(packet: DhcpPacket, code: C): OptionValue<C> | undefined {
  const raw = packet.options.get(code);
  if (raw === undefined) return undefined;
  return decodeAny(optionType(code), raw, code) as OptionValue<C>;
}

/**
 * Sets option `code` from a typed value (see the option table). An existing option keeps its place in
 * the wire order; a new one goes last. Throws `EncodeError('bad-option-value')` for a value of the wrong type.
 */
export function setOption<C extends number>(packet: DhcpPacket, code: C, value: OptionValue<C>): void {
  if (!Number.isInteger(code) || code < 1 || code > 254)
    throw new EncodeError('bad-option-value', `option code ${code} is not 1..254`);
  packet.options.set(code, encodeOptionValue(optionType(code), value as never, code));
}

/** Removes option `code`; returns whether it was present. */
export function deleteOption(packet: DhcpPacket, code: number): boolean {
  return packet.options.delete(code);
}
