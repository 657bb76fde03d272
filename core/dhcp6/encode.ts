/**
 * DHCPv6 encoding: `encode(packet)` and `encodingLength(packet)`. Values are checked as they are
 * written, so a wrong field or option value ends in a `Dhcp6EncodeError` naming it.
 */
import { addressBytes } from './address.js';
import { OptionCode as O, isRelayType } from './constants.js';
import { MAX_MESSAGE_SIZE } from './decode.js';
import { Dhcp6EncodeError } from './errors.js';
import type { Dhcp6Option, Dhcp6Packet, VendorSubOption } from './types.js';

export function encode(packet: Dhcp6Packet): Buffer {
  const buf = Buffer.concat(packetParts(packet));
  if (buf.length > MAX_MESSAGE_SIZE) {
    throw new Dhcp6EncodeError('too-large', `message of ${buf.length} bytes exceeds ${MAX_MESSAGE_SIZE}`);
  }
  return buf;
}

export function encodingLength(packet: Dhcp6Packet): number {
  return packetParts(packet).reduce((n, b) => n + b.length, 0);
}

function packetParts(p: Dhcp6Packet): Buffer[] {
  byteField('msg-type', p.msgType);
  if (p.kind === 'message') {
    if (isRelayType(p.msgType)) throw new Dhcp6EncodeError('bad-field', `msg-type ${p.msgType} needs the relay form`);
    if (!Number.isInteger(p.transactionId) || p.transactionId < 0 || p.transactionId > 0xffffff) {
      throw new Dhcp6EncodeError('bad-field', `transaction id ${p.transactionId} is not 0..0xffffff`);
    }
    const head = Buffer.alloc(4);
    head[0] = p.msgType;
    head.writeUIntBE(p.transactionId, 1, 3);
    return [head, ...optionsParts(p.options)];
  }
  if (!isRelayType(p.msgType)) throw new Dhcp6EncodeError('bad-field', `msg-type ${p.msgType} is not a relay type`);
  byteField('hop-count', p.hopCount);
  const head = Buffer.alloc(34);
  head[0] = p.msgType;
  head[1] = p.hopCount;
  head.set(address('link-address', p.linkAddress), 2);
  head.set(address('peer-address', p.peerAddress), 18);
  return [head, ...optionsParts(p.options)];
}

function byteField(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new Dhcp6EncodeError('bad-field', `${name} ${v} is not 0..255`);
}

function address(what: string, a: string): number[] {
  try {
    return addressBytes(a);
  } catch {
    throw new Dhcp6EncodeError('bad-field', `${what} '${a}' is not an IPv6 address`);
  }
}

function optionsParts(options: readonly Dhcp6Option[]): Buffer[] {
  return options.map(encodeOption);
}

/** One option with its 4-byte header. */
export function encodeOption(opt: Dhcp6Option): Buffer {
  const [code, value] = optionValue(opt);
  if (value.length > 0xffff) {
    throw new Dhcp6EncodeError('bad-option-value', `option ${code} value of ${value.length} bytes exceeds 65535`);
  }
  const head = Buffer.alloc(4);
  head.writeUInt16BE(code, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

function u8(v: number, what: string): Buffer {
  checkInt(v, 0xff, what);
  return Buffer.from([v]);
}
function u16(v: number, what: string): Buffer {
  checkInt(v, 0xffff, what);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v: number, what: string): Buffer {
  checkInt(v, 0xffffffff, what);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}
function checkInt(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new Dhcp6EncodeError('bad-option-value', `${what} ${v} is not an integer 0..${max}`);
  }
}
function addr(a: string, what: string): Buffer {
  try {
    return Buffer.from(addressBytes(a));
  } catch {
    throw new Dhcp6EncodeError('bad-option-value', `${what} '${a}' is not an IPv6 address`);
  }
}
function opaqueList(items: readonly Buffer[], what: string): Buffer {
  return Buffer.concat(items.flatMap((b) => [u16(b.length, `${what} item length`), b]));
}
function vendorSubs(subs: readonly VendorSubOption[]): Buffer {
  return Buffer.concat(
    subs.flatMap((s) => [
      u16(s.code, 'vendor sub-option code'),
      u16(s.data.length, 'vendor sub-option length'),
      s.data,
    ]),
  );
}
function domainList(domains: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const d of domains) {
    for (const label of d.split('.').filter((l) => l !== '')) {
      const b = Buffer.from(label, 'latin1');
      if (b.length > 63) throw new Dhcp6EncodeError('bad-option-value', `domain label '${label}' is over 63 bytes`);
      parts.push(Buffer.from([b.length]), b);
    }
    parts.push(Buffer.from([0]));
  }
  return Buffer.concat(parts);
}
function ia(iaid: number, t1: number, t2: number, options: readonly Dhcp6Option[]): Buffer {
  return Buffer.concat([u32(iaid, 'IAID'), u32(t1, 'T1'), u32(t2, 'T2'), ...optionsParts(options)]);
}
function duid(d: Buffer): Buffer {
  if (d.length < 2 || d.length > 130)
    throw new Dhcp6EncodeError('bad-option-value', `DUID of ${d.length} bytes (2..130)`);
  return d;
}

function optionValue(o: Dhcp6Option): [number, Buffer] {
  switch (o.kind) {
    case 'client-id':
      return [O.CLIENTID, duid(o.duid)];
    case 'server-id':
      return [O.SERVERID, duid(o.duid)];
    case 'ia-na':
      return [O.IA_NA, ia(o.iaid, o.t1, o.t2, o.options)];
    case 'ia-pd':
      return [O.IA_PD, ia(o.iaid, o.t1, o.t2, o.options)];
    case 'ia-ta':
      return [O.IA_TA, Buffer.concat([u32(o.iaid, 'IAID'), ...optionsParts(o.options)])];
    case 'iaaddr':
      return [
        O.IAADDR,
        Buffer.concat([
          addr(o.address, 'IAADDR address'),
          u32(o.preferredLifetime, 'preferred lifetime'),
          u32(o.validLifetime, 'valid lifetime'),
          ...optionsParts(o.options),
        ]),
      ];
    case 'iaprefix':
      return [
        O.IAPREFIX,
        Buffer.concat([
          u32(o.preferredLifetime, 'preferred lifetime'),
          u32(o.validLifetime, 'valid lifetime'),
          u8(o.prefixLength > 128 ? 256 : o.prefixLength, 'prefix length'),
          addr(o.prefix, 'IAPREFIX prefix'),
          ...optionsParts(o.options),
        ]),
      ];
    case 'oro':
      return [O.ORO, Buffer.concat(o.codes.map((c) => u16(c, 'ORO code')))];
    case 'preference':
      return [O.PREFERENCE, u8(o.value, 'preference')];
    case 'elapsed-time':
      return [O.ELAPSED_TIME, u16(o.centiseconds, 'elapsed time')];
    case 'relay-msg':
      return [O.RELAY_MSG, Buffer.concat(packetParts(o.message))];
    case 'unicast':
      return [O.UNICAST, addr(o.address, 'unicast address')];
    case 'status-code':
      return [O.STATUS_CODE, Buffer.concat([u16(o.status, 'status code'), Buffer.from(o.message, 'utf8')])];
    case 'rapid-commit':
      return [O.RAPID_COMMIT, Buffer.alloc(0)];
    case 'user-class':
      return [O.USER_CLASS, opaqueList(o.classes, 'user class')];
    case 'vendor-class':
      return [
        O.VENDOR_CLASS,
        Buffer.concat([u32(o.enterprise, 'enterprise number'), opaqueList(o.data, 'vendor class')]),
      ];
    case 'vendor-opts':
      return [O.VENDOR_OPTS, Buffer.concat([u32(o.enterprise, 'enterprise number'), vendorSubs(o.options)])];
    case 'interface-id':
      return [O.INTERFACE_ID, o.id];
    case 'reconf-msg':
      return [O.RECONF_MSG, u8(o.msgType, 'reconfigure msg-type')];
    case 'reconf-accept':
      return [O.RECONF_ACCEPT, Buffer.alloc(0)];
    case 'dns-servers':
      return [O.DNS_SERVERS, Buffer.concat(o.addresses.map((a) => addr(a, 'DNS server')))];
    case 'domain-list':
      return [O.DOMAIN_LIST, domainList(o.domains)];
    case 'information-refresh-time':
      return [O.INFORMATION_REFRESH_TIME, u32(o.seconds, 'information refresh time')];
    case 'bootfile-url':
      return [O.BOOTFILE_URL, Buffer.from(o.url, 'utf8')];
    case 'bootfile-param':
      return [
        O.BOOTFILE_PARAM,
        opaqueList(
          o.params.map((p) => Buffer.from(p, 'utf8')),
          'boot file parameter',
        ),
      ];
    case 'client-arch-type':
      return [O.CLIENT_ARCH_TYPE, Buffer.concat(o.types.map((t) => u16(t, 'architecture type')))];
    case 'nii':
      return [O.NII, Buffer.concat([u8(o.type, 'NII type'), u8(o.major, 'NII major'), u8(o.minor, 'NII minor')])];
    case 'client-linklayer-addr':
      return [O.CLIENT_LINKLAYER_ADDR, Buffer.concat([u16(o.linkType, 'link-layer type'), o.address])];
    case 'sol-max-rt':
      return [O.SOL_MAX_RT, u32(o.seconds, 'SOL_MAX_RT')];
    case 'inf-max-rt':
      return [O.INF_MAX_RT, u32(o.seconds, 'INF_MAX_RT')];
    case 'raw':
      checkInt(o.code, 0xffff, 'option code');
      return [o.code, o.data];
  }
}
