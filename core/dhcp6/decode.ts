/**
 * DHCPv6 decoding (RFC 8415 §8, §9, §21; RFC 5970; RFC 6939). Every read is bounds-checked, so any
 * input ends in a `Dhcp6Packet` or a `Dhcp6DecodeError` with a reason: never another exception.
 */
import { readAddress } from './address.js';
import { HOP_COUNT_LIMIT, OptionCode as O, isRelayType } from './constants.js';
import { Dhcp6DecodeError } from './errors.js';
import type { Dhcp6Option, Dhcp6Packet, VendorSubOption } from './types.js';

/** Largest UDP payload over IPv6 without jumbograms (65,535 − 8). */
export const MAX_MESSAGE_SIZE = 65527;
const RELAY_HEADER = 34;

/** Parses one DHCPv6 message (a UDP payload). Throws `Dhcp6DecodeError`, and nothing else, when malformed. */
export function decode(buf: Buffer): Dhcp6Packet {
  if (buf.length > MAX_MESSAGE_SIZE) {
    throw new Dhcp6DecodeError('too-large', `message of ${buf.length} bytes exceeds ${MAX_MESSAGE_SIZE}`);
  }
  return decodeAt(buf, 0, buf.length, 0);
}

function decodeAt(buf: Buffer, start: number, end: number, depth: number): Dhcp6Packet {
  if (end - start < 4) {
    throw new Dhcp6DecodeError('truncated-header', `message of ${end - start} bytes is shorter than 4`, start);
  }
  const msgType = buf[start]!;
  if (!isRelayType(msgType)) {
    return {
      kind: 'message',
      msgType,
      transactionId: buf.readUIntBE(start + 1, 3),
      options: decodeOptions(buf, start + 4, end, depth),
    };
  }
  if (end - start < RELAY_HEADER) {
    throw new Dhcp6DecodeError(
      'truncated-header',
      `relay message of ${end - start} bytes is shorter than its ${RELAY_HEADER}-byte header`,
      start,
    );
  }
  return {
    kind: 'relay',
    msgType,
    hopCount: buf[start + 1]!,
    linkAddress: readAddress(buf, start + 2),
    peerAddress: readAddress(buf, start + 18),
    options: decodeOptions(buf, start + RELAY_HEADER, end, depth),
  };
}

/** Decodes the options in `buf[start, end)`, in wire order (repeats are kept: IA_NA, IAADDR...). */
function decodeOptions(buf: Buffer, start: number, end: number, depth: number): Dhcp6Option[] {
  const out: Dhcp6Option[] = [];
  let i = start;
  while (i < end) {
    if (i + 4 > end) throw new Dhcp6DecodeError('option-overrun', `option header at ${i} runs past ${end}`, i);
    const code = buf.readUInt16BE(i);
    const len = buf.readUInt16BE(i + 2);
    const vStart = i + 4;
    const vEnd = vStart + len;
    if (vEnd > end) {
      throw new Dhcp6DecodeError('option-overrun', `option ${code} at ${i} (length ${len}) runs past ${end}`, i);
    }
    out.push(decodeOption(buf, code, vStart, vEnd, depth));
    i = vEnd;
  }
  return out;
}

function bad(code: number, at: number, what: string): Dhcp6DecodeError {
  return new Dhcp6DecodeError('bad-option-value', `option ${code} at ${at - 4}: ${what}`, at - 4);
}

function need(code: number, s: number, e: number, exact: number | undefined, min = 0): void {
  const len = e - s;
  if (exact !== undefined && len !== exact) throw bad(code, s, `length ${len}, expected ${exact}`);
  if (len < min) throw bad(code, s, `length ${len}, expected at least ${min}`);
}

function decodeOption(buf: Buffer, code: number, s: number, e: number, depth: number): Dhcp6Option {
  const len = e - s;
  switch (code) {
    case O.CLIENTID:
    case O.SERVERID:
      // A DUID is a 2-byte type and at most 128 bytes of identifier (RFC 8415 §11.1).
      if (len < 2 || len > 130) throw bad(code, s, `DUID of ${len} bytes (2..130)`);
      return { kind: code === O.CLIENTID ? 'client-id' : 'server-id', duid: Buffer.from(buf.subarray(s, e)) };
    case O.IA_NA:
    case O.IA_PD: {
      need(code, s, e, undefined, 12);
      const ia = { iaid: buf.readUInt32BE(s), t1: buf.readUInt32BE(s + 4), t2: buf.readUInt32BE(s + 8) };
      const options = decodeOptions(buf, s + 12, e, depth);
      return code === O.IA_NA ? { kind: 'ia-na', ...ia, options } : { kind: 'ia-pd', ...ia, options };
    }
    case O.IA_TA:
      need(code, s, e, undefined, 4);
      return { kind: 'ia-ta', iaid: buf.readUInt32BE(s), options: decodeOptions(buf, s + 4, e, depth) };
    case O.IAADDR:
      need(code, s, e, undefined, 24);
      return {
        kind: 'iaaddr',
        address: readAddress(buf, s),
        preferredLifetime: buf.readUInt32BE(s + 16),
        validLifetime: buf.readUInt32BE(s + 20),
        options: decodeOptions(buf, s + 24, e, depth),
      };
    case O.IAPREFIX: {
      need(code, s, e, undefined, 25);
      const prefixLength = buf[s + 8]!;
      if (prefixLength > 128) throw bad(code, s, `prefix length ${prefixLength} is over 128`);
      return {
        kind: 'iaprefix',
        preferredLifetime: buf.readUInt32BE(s),
        validLifetime: buf.readUInt32BE(s + 4),
        prefixLength,
        prefix: readAddress(buf, s + 9),
        options: decodeOptions(buf, s + 25, e, depth),
      };
    }
    case O.ORO:
      if (len % 2 !== 0) throw bad(code, s, `length ${len} is not a multiple of 2`);
      return { kind: 'oro', codes: u16List(buf, s, e) };
    case O.PREFERENCE:
      need(code, s, e, 1);
      return { kind: 'preference', value: buf[s]! };
    case O.ELAPSED_TIME:
      need(code, s, e, 2);
      return { kind: 'elapsed-time', centiseconds: buf.readUInt16BE(s) };
    case O.RELAY_MSG:
      if (depth >= HOP_COUNT_LIMIT) {
        throw new Dhcp6DecodeError('relay-too-deep', `relay messages nested over ${HOP_COUNT_LIMIT} deep`, s - 4);
      }
      return { kind: 'relay-msg', message: decodeAt(buf, s, e, depth + 1) };
    case O.UNICAST:
      need(code, s, e, 16);
      return { kind: 'unicast', address: readAddress(buf, s) };
    case O.STATUS_CODE:
      need(code, s, e, undefined, 2);
      return { kind: 'status-code', status: buf.readUInt16BE(s), message: buf.toString('utf8', s + 2, e) };
    case O.RAPID_COMMIT:
      need(code, s, e, 0);
      return { kind: 'rapid-commit' };
    case O.USER_CLASS:
      return { kind: 'user-class', classes: opaqueList(buf, code, s, e) };
    case O.VENDOR_CLASS:
      need(code, s, e, undefined, 4);
      return { kind: 'vendor-class', enterprise: buf.readUInt32BE(s), data: opaqueList(buf, code, s + 4, e) };
    case O.VENDOR_OPTS:
      need(code, s, e, undefined, 4);
      return { kind: 'vendor-opts', enterprise: buf.readUInt32BE(s), options: vendorSubOptions(buf, code, s + 4, e) };
    case O.INTERFACE_ID:
      return { kind: 'interface-id', id: Buffer.from(buf.subarray(s, e)) };
    case O.RECONF_MSG:
      need(code, s, e, 1);
      return { kind: 'reconf-msg', msgType: buf[s]! };
    case O.RECONF_ACCEPT:
      need(code, s, e, 0);
      return { kind: 'reconf-accept' };
    case O.DNS_SERVERS:
      if (len % 16 !== 0) throw bad(code, s, `length ${len} is not a multiple of 16`);
      return {
        kind: 'dns-servers',
        addresses: Array.from({ length: len / 16 }, (_, k) => readAddress(buf, s + 16 * k)),
      };
    case O.DOMAIN_LIST:
      return { kind: 'domain-list', domains: domainList(buf, code, s, e) };
    case O.INFORMATION_REFRESH_TIME:
      need(code, s, e, 4);
      return { kind: 'information-refresh-time', seconds: buf.readUInt32BE(s) };
    case O.BOOTFILE_URL:
      return { kind: 'bootfile-url', url: buf.toString('utf8', s, e) };
    case O.BOOTFILE_PARAM:
      return { kind: 'bootfile-param', params: opaqueList(buf, code, s, e).map((b) => b.toString('utf8')) };
    case O.CLIENT_ARCH_TYPE:
      if (len === 0 || len % 2 !== 0) throw bad(code, s, `length ${len} is not a positive multiple of 2`);
      return { kind: 'client-arch-type', types: u16List(buf, s, e) };
    case O.NII:
      need(code, s, e, 3);
      return { kind: 'nii', type: buf[s]!, major: buf[s + 1]!, minor: buf[s + 2]! };
    case O.CLIENT_LINKLAYER_ADDR:
      need(code, s, e, undefined, 3);
      return {
        kind: 'client-linklayer-addr',
        linkType: buf.readUInt16BE(s),
        address: Buffer.from(buf.subarray(s + 2, e)),
      };
    case O.SOL_MAX_RT:
    case O.INF_MAX_RT:
      need(code, s, e, 4);
      return { kind: code === O.SOL_MAX_RT ? 'sol-max-rt' : 'inf-max-rt', seconds: buf.readUInt32BE(s) };
    default:
      return { kind: 'raw', code, data: Buffer.from(buf.subarray(s, e)) };
  }
}

function u16List(buf: Buffer, s: number, e: number): number[] {
  const out: number[] = [];
  for (let i = s; i + 1 < e; i += 2) out.push(buf.readUInt16BE(i));
  return out;
}

/** A list of `len16 data` items (user class, vendor class data, boot file parameters). */
function opaqueList(buf: Buffer, code: number, s: number, e: number): Buffer[] {
  const out: Buffer[] = [];
  let i = s;
  while (i < e) {
    if (i + 2 > e) throw bad(code, s, `item length at ${i} runs past the option`);
    const n = buf.readUInt16BE(i);
    if (i + 2 + n > e) throw bad(code, s, `item of ${n} bytes at ${i} runs past the option`);
    out.push(Buffer.from(buf.subarray(i + 2, i + 2 + n)));
    i += 2 + n;
  }
  return out;
}

function vendorSubOptions(buf: Buffer, code: number, s: number, e: number): VendorSubOption[] {
  const out: VendorSubOption[] = [];
  let i = s;
  while (i < e) {
    if (i + 4 > e) throw bad(code, s, `sub-option header at ${i} runs past the option`);
    const n = buf.readUInt16BE(i + 2);
    if (i + 4 + n > e) throw bad(code, s, `sub-option of ${n} bytes at ${i} runs past the option`);
    out.push({ code: buf.readUInt16BE(i), data: Buffer.from(buf.subarray(i + 4, i + 4 + n)) });
    i += 4 + n;
  }
  return out;
}

/** Uncompressed DNS names (RFC 8415 §10, RFC 1035 §3.1), each ending in the root label. */
function domainList(buf: Buffer, code: number, s: number, e: number): string[] {
  const out: string[] = [];
  let labels: string[] = [];
  let i = s;
  while (i < e) {
    const n = buf[i]!;
    if (n === 0) {
      out.push(labels.join('.'));
      labels = [];
      i++;
      continue;
    }
    if (n > 63) throw bad(code, s, `label length ${n} at ${i} (compression is not allowed)`);
    if (i + 1 + n > e) throw bad(code, s, `label at ${i} runs past the option`);
    labels.push(buf.toString('latin1', i + 1, i + 1 + n));
    i += 1 + n;
  }
  if (labels.length > 0) throw bad(code, s, 'the last name has no root label');
  return out;
}
