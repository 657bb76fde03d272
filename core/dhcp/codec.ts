/**
 * DHCPv4 wire codec (RFC 2131, RFC 2132, RFC 3396): `decode`, `encode`, `encodingLength`.
 * Pure functions, no sockets. `decode` is the per-packet hot path: it copies nothing but joined
 * long options, and every read is bounds-checked so any input ends in a packet or a `DecodeError`.
 */
import { DecodeError, EncodeError } from './decode-error.js';
import {
  BOOTP_MIN_SIZE,
  FILE_OFFSET,
  FILE_SIZE,
  HEADER_SIZE,
  MAGIC_COOKIE,
  MAX_UDP_PAYLOAD,
  OPTIONS_OFFSET,
  SNAME_OFFSET,
  SNAME_SIZE,
  macString,
  readIp,
  writeIp,
} from './packet.js';
import type { DhcpPacket } from './packet.js';

const OPT_PAD = 0;
const OPT_OVERLOAD = 52;
const OPT_END = 255;
/** Option 52 values (RFC 2132 §9.3): bit 0 = `file` holds options, bit 1 = `sname` holds options. */
const OVERLOAD_FILE = 1;
const OVERLOAD_SNAME = 2;

/**
 * Parses the DHCP message in `buf` (a UDP payload starting at the BOOTP `op` byte).
 * Throws `DecodeError` (and nothing else) for malformed input.
 */
export function decode(buf: Buffer): DhcpPacket {
  const len = buf.length;
  if (len > MAX_UDP_PAYLOAD) throw new DecodeError('too-large', `packet of ${len} bytes exceeds ${MAX_UDP_PAYLOAD}`);
  if (len < OPTIONS_OFFSET) {
    throw new DecodeError(
      'truncated-header',
      `packet of ${len} bytes is shorter than header + cookie (${OPTIONS_OFFSET})`,
    );
  }
  if (buf.readUInt32BE(HEADER_SIZE) !== MAGIC_COOKIE) {
    throw new DecodeError(
      'bad-magic',
      `magic cookie is 0x${buf.readUInt32BE(HEADER_SIZE).toString(16)}, not 0x63825363`,
      HEADER_SIZE,
    );
  }
  const hlen = buf[2]!;
  if (hlen > 16) throw new DecodeError('bad-hlen', `hlen ${hlen} is larger than chaddr (16)`, 2);

  const options = new Map<number, Buffer>();
  const overload = readOptions(buf, OPTIONS_OFFSET, len, options, true);
  // RFC 3396 §7: the aggregate buffer is options, then file, then sname, so long options join in that order.
  if (overload & OVERLOAD_FILE) readOptions(buf, FILE_OFFSET, FILE_OFFSET + FILE_SIZE, options, false);
  if (overload & OVERLOAD_SNAME) readOptions(buf, SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE, options, false);

  const chaddr = buf.subarray(28, 44);
  return {
    op: buf[0]!,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: readIp(buf, 12),
    yiaddr: readIp(buf, 16),
    siaddr: readIp(buf, 20),
    giaddr: readIp(buf, 24),
    chaddr,
    mac: macString(chaddr, hlen),
    sname: overload & OVERLOAD_SNAME ? '' : readCString(buf, SNAME_OFFSET, SNAME_SIZE),
    file: overload & OVERLOAD_FILE ? '' : readCString(buf, FILE_OFFSET, FILE_SIZE),
    options,
  };
}

/**
 * Reads options from `buf[start, end)` into `into`, joining repeated codes (RFC 3396).
 * Returns the option 52 value found (only allowed when `isMain`), or 0.
 */
function readOptions(buf: Buffer, start: number, end: number, into: Map<number, Buffer>, isMain: boolean): number {
  let overload = 0;
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (code === OPT_END) break;
    if (i + 1 >= end) throw new DecodeError('option-overrun', `option ${code} at ${i} has no length byte`, i);
    const valueStart = i + 2;
    const valueEnd = valueStart + buf[i + 1]!;
    if (valueEnd > end) {
      throw new DecodeError(
        'option-overrun',
        `option ${code} at ${i} (length ${buf[i + 1]}) runs past the end of its field at ${end}`,
        i,
      );
    }
    if (code === OPT_OVERLOAD) {
      if (!isMain) throw new DecodeError('overload-loop', `option 52 inside an overloaded field at ${i}`, i);
      const value = buf[valueStart]!;
      if (overload !== 0 || valueEnd - valueStart !== 1 || value < 1 || value > 3) {
        throw new DecodeError('bad-overload', `option 52 at ${i} must appear once with one byte 1, 2 or 3`, i);
      }
      overload = value;
    } else {
      const value = buf.subarray(valueStart, valueEnd);
      const prev = into.get(code);
      // Map.set on an existing key keeps its first position, as RFC 3396 concatenation wants.
      into.set(code, prev === undefined ? value : Buffer.concat([prev, value]));
    }
    i = valueEnd;
  }
  return overload;
}

function readCString(buf: Buffer, offset: number, size: number): string {
  let end = offset;
  const limit = offset + size;
  while (end < limit && buf[end] !== 0) end++;
  return end === offset ? '' : buf.toString('utf8', offset, end);
}

/** Options for `encode` and `encodingLength`. */
export interface EncodeOptions {
  /**
   * Largest message to produce, in bytes of UDP payload (default 65,507). For a client's option 57
   * use `replySizeLimit(request)`. When the options do not fit, they overflow into `file` and then
   * `sname` (option 52) if those are empty; otherwise `encode` throws `EncodeError('too-large')`.
   */
  maxSize?: number;
  /** Zero-pad the message to at least this many bytes (default 300, the BOOTP minimum; capped at `maxSize`). */
  minSize?: number;
}

/** One on-the-wire option instance: `code`, and a value of at most 255 bytes. */
interface Chunk {
  code: number;
  value: Buffer;
}

/** Where the options go: sizes of the main area, and the chunks per field when overloading. */
interface Layout {
  size: number;
  overload: number;
  main?: Chunk[];
  file?: Chunk[];
  sname?: Chunk[];
}

/** Bytes the options take on the wire after splitting values over 255 bytes (RFC 3396), without the end option. */
function optionsWireLength(options: Map<number, Buffer>): number {
  let n = 0;
  for (const [code, value] of options) {
    if (code === OPT_OVERLOAD) continue;
    checkCode(code);
    n += value.length === 0 ? 2 : value.length + 2 * Math.ceil(value.length / 255);
  }
  return n;
}

function checkCode(code: number): void {
  if (!Number.isInteger(code) || code <= OPT_PAD || code >= OPT_END) {
    throw new EncodeError('bad-option-value', `option code ${code} cannot be encoded (must be 1..254)`);
  }
}

function plan(packet: DhcpPacket, opts: EncodeOptions | undefined): Layout {
  const maxSize = opts?.maxSize ?? MAX_UDP_PAYLOAD;
  const minSize = Math.min(opts?.minSize ?? BOOTP_MIN_SIZE, maxSize);
  const plain = OPTIONS_OFFSET + optionsWireLength(packet.options) + 1;
  if (plain <= maxSize) return { size: Math.max(plain, minSize), overload: 0 };

  // Overload (RFC 2131 §4.1, RFC 2132 §9.3): fill options, then file, then sname, keeping wire order
  // so that split long options still join in RFC 3396 order. Each field keeps one byte for the end option.
  if (maxSize < OPTIONS_OFFSET + 4) throw new EncodeError('too-large', `maxSize ${maxSize} leaves no room for options`);
  const chunks = splitChunks(packet.options);
  const fields: { bit: number; budget: number; list: Chunk[] }[] = [
    { bit: 0, budget: maxSize - OPTIONS_OFFSET - 3 - 1, list: [] },
  ];
  if (packet.file === '') fields.push({ bit: OVERLOAD_FILE, budget: FILE_SIZE - 1, list: [] });
  if (packet.sname === '') fields.push({ bit: OVERLOAD_SNAME, budget: SNAME_SIZE - 1, list: [] });
  let f = 0;
  let used = 0;
  for (const chunk of chunks) {
    const need = chunk.value.length + 2;
    while (f < fields.length && used + need > fields[f]!.budget) {
      f++;
      used = 0;
    }
    if (f >= fields.length) {
      throw new EncodeError(
        'too-large',
        `options need ${plain - OPTIONS_OFFSET} bytes and do not fit in maxSize ${maxSize} ` +
          `even using ${fields.length - 1} overloaded field(s)`,
      );
    }
    fields[f]!.list.push(chunk);
    used += need;
  }
  const main = fields[0]!.list;
  let mainLen = 0;
  for (const c of main) mainLen += c.value.length + 2;
  const layout: Layout = { size: Math.max(OPTIONS_OFFSET + 3 + mainLen + 1, minSize), overload: 0, main };
  for (let k = 1; k < fields.length; k++) {
    const field = fields[k]!;
    if (field.list.length === 0) continue;
    if (field.bit === OVERLOAD_FILE) layout.file = field.list;
    else layout.sname = field.list;
    layout.overload |= field.bit;
  }
  return layout;
}

function splitChunks(options: Map<number, Buffer>): Chunk[] {
  const chunks: Chunk[] = [];
  for (const [code, value] of options) {
    if (code === OPT_OVERLOAD) continue;
    if (value.length === 0) chunks.push({ code, value });
    for (let o = 0; o < value.length; o += 255) chunks.push({ code, value: value.subarray(o, o + 255) });
  }
  return chunks;
}

/** The exact number of bytes `encode(packet, opts)` will produce. Throws `EncodeError` when `encode` would. */
export function encodingLength(packet: DhcpPacket, opts?: EncodeOptions): number {
  return plan(packet, opts).size;
}

/**
 * Serialises `packet`: fixed fields, magic cookie, options in map order (values over 255 bytes split
 * into repeated instances, RFC 3396), the end option, then zero padding to `minSize` (default 300).
 * Option 52 in `packet.options` is ignored: overload is decided here from `maxSize`.
 * Throws `EncodeError` for fields out of range or options that cannot fit.
 */
export function encode(packet: DhcpPacket, opts?: EncodeOptions): Buffer {
  const layout = plan(packet, opts);
  const out = Buffer.alloc(layout.size);
  out[0] = byteField(packet.op, 'op');
  out[1] = byteField(packet.htype, 'htype');
  out[2] = byteField(packet.hlen, 'hlen');
  out[3] = byteField(packet.hops, 'hops');
  out.writeUInt32BE(intField(packet.xid, 0xffffffff, 'xid'), 4);
  out.writeUInt16BE(intField(packet.secs, 0xffff, 'secs'), 8);
  out.writeUInt16BE(intField(packet.flags, 0xffff, 'flags'), 10);
  writeIp(out, packet.ciaddr, 12, 'ciaddr');
  writeIp(out, packet.yiaddr, 16, 'yiaddr');
  writeIp(out, packet.siaddr, 20, 'siaddr');
  writeIp(out, packet.giaddr, 24, 'giaddr');
  packet.chaddr.copy(out, 28, 0, Math.min(16, packet.chaddr.length));
  if (layout.sname) writeChunks(out, layout.sname, SNAME_OFFSET);
  else writeCString(out, packet.sname, SNAME_OFFSET, SNAME_SIZE, 'sname');
  if (layout.file) writeChunks(out, layout.file, FILE_OFFSET);
  else writeCString(out, packet.file, FILE_OFFSET, FILE_SIZE, 'file');
  out.writeUInt32BE(MAGIC_COOKIE, HEADER_SIZE);

  let p = OPTIONS_OFFSET;
  if (layout.main) {
    if (layout.overload !== 0) {
      out[p++] = OPT_OVERLOAD;
      out[p++] = 1;
      out[p++] = layout.overload;
    }
    writeChunks(out, layout.main, p);
  } else {
    for (const [code, value] of packet.options) {
      if (code === OPT_OVERLOAD) continue;
      if (value.length === 0) {
        out[p++] = code;
        out[p++] = 0;
      }
      for (let o = 0; o < value.length; o += 255) {
        const n = Math.min(255, value.length - o);
        out[p++] = code;
        out[p++] = n;
        p += value.copy(out, p, o, o + n);
      }
    }
    out[p] = OPT_END;
  }
  return out;
}

/** Writes chunks then the end option at `p`; returns the end option's offset. */
function writeChunks(out: Buffer, chunks: Chunk[], p: number): number {
  for (const { code, value } of chunks) {
    out[p++] = code;
    out[p++] = value.length;
    p += value.copy(out, p);
  }
  out[p] = OPT_END;
  return p;
}

function writeCString(out: Buffer, s: string, offset: number, size: number, what: string): void {
  if (s === '') return;
  const n = Buffer.byteLength(s, 'utf8');
  // Keep room for the terminating NUL: firmware reads these as C strings.
  if (n >= size)
    throw new EncodeError('bad-field', `${what} is ${n} bytes; the field holds at most ${size - 1} plus a NUL`);
  out.write(s, offset, 'utf8');
}

function byteField(v: number, what: string): number {
  return intField(v, 255, what);
}

function intField(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new EncodeError('bad-field', `${what} ${v} is not an integer in 0..${max}`);
  return v;
}

/**
 * The `maxSize` to use for a reply to `request`: its option 57 (maximum DHCP message size, which
 * counts the IP and UDP headers, RFC 2132 §9.10) minus 28, or 548 (576 − 28, RFC 2131 §2) without it.
 * Values under the legal minimum of 576 are treated as 576.
 */
export function replySizeLimit(request: DhcpPacket): number {
  const v = request.options.get(57);
  const max = v !== undefined && v.length === 2 ? Math.max(576, v.readUInt16BE(0)) : 576;
  return Math.min(max - 28, MAX_UDP_PAYLOAD);
}
