/**
 * TFTP packet codec: RFC 1350 (RRQ, WRQ, DATA, ACK, ERROR) and RFC 2347 (OACK, request options).
 * Decoding never throws anything but `TftpDecodeError`; the listener turns that into a logged drop or ERROR 4.
 */

export const OP_RRQ = 1;
export const OP_WRQ = 2;
export const OP_DATA = 3;
export const OP_ACK = 4;
export const OP_ERROR = 5;
export const OP_OACK = 6;

/** RFC 1350 §5 and RFC 2347 error codes. */
export const TftpErrorCode = {
  NotDefined: 0,
  FileNotFound: 1,
  AccessViolation: 2,
  DiskFull: 3,
  IllegalOperation: 4,
  UnknownTid: 5,
  FileExists: 6,
  NoSuchUser: 7,
  OptionNegotiation: 8,
} as const;

export type DecodeFailure =
  | 'too-short'
  | 'unknown-opcode'
  | 'missing-nul'
  | 'empty-filename'
  | 'empty-mode'
  | 'option-without-value'
  | 'empty-option-name';

export class TftpDecodeError extends Error {
  constructor(
    readonly reason: DecodeFailure,
    detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'TftpDecodeError';
  }
}

/** Options as sent: names lower-cased (RFC 2347: case-insensitive), first occurrence wins, order kept. */
export interface RequestOptions {
  values: Map<string, string>;
  /** Names that appeared more than once (later values ignored); for logs. */
  duplicates: string[];
}

export interface RequestPacket {
  op: 'rrq' | 'wrq';
  filename: string;
  /** Lower-cased transfer mode: `octet`, `netascii`, `mail` or whatever the client sent. */
  mode: string;
  options: RequestOptions;
}
export interface DataPacket {
  op: 'data';
  block: number;
  data: Buffer;
}
export interface AckPacket {
  op: 'ack';
  block: number;
}
export interface ErrorPacket {
  op: 'error';
  code: number;
  message: string;
}
export interface OackPacket {
  op: 'oack';
  options: RequestOptions;
}
export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

/** Reads NUL-terminated strings; throws `missing-nul` when the buffer ends first. */
function readStrings(buf: Buffer, start: number): string[] {
  const out: string[] = [];
  let pos = start;
  while (pos < buf.length) {
    const nul = buf.indexOf(0, pos);
    if (nul < 0) throw new TftpDecodeError('missing-nul', `string at offset ${pos} not terminated`);
    out.push(buf.toString('utf8', pos, nul));
    pos = nul + 1;
  }
  return out;
}

function parseOptions(parts: string[]): RequestOptions {
  // Some clients pad requests with extra NULs: trailing empty strings are padding, not options.
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  const values = new Map<string, string>();
  const duplicates: string[] = [];
  for (let i = 0; i < end; i += 2) {
    const name = parts[i] ?? '';
    const value = parts[i + 1];
    if (name === '') throw new TftpDecodeError('empty-option-name', `option #${i / 2 + 1}`);
    if (value === undefined) throw new TftpDecodeError('option-without-value', name);
    const key = name.toLowerCase();
    if (values.has(key)) duplicates.push(key);
    else values.set(key, value);
  }
  return { values, duplicates };
}

/**
 * The block number when `buf[0, len)` is an ACK, else -1: the transfer hot path's decoder (one ACK per
 * block in lock-step), with the same acceptance as decodePacket (4 bytes or more, padding tolerated).
 */
export function ackBlockOf(buf: Buffer, len: number): number {
  if (len < 4 || buf.length < 4 || buf[0] !== 0 || buf[1] !== OP_ACK) return -1;
  return (buf[2]! << 8) | buf[3]!;
}

export function decodePacket(buf: Buffer): TftpPacket {
  if (buf.length < 2) throw new TftpDecodeError('too-short', `${buf.length} bytes`);
  const opcode = buf.readUInt16BE(0);
  switch (opcode) {
    case OP_RRQ:
    case OP_WRQ: {
      const parts = readStrings(buf, 2);
      const filename = parts[0];
      const mode = parts[1];
      if (filename === undefined || filename === '') throw new TftpDecodeError('empty-filename');
      if (mode === undefined) throw new TftpDecodeError('missing-nul', 'no mode');
      if (mode === '') throw new TftpDecodeError('empty-mode');
      return {
        op: opcode === OP_RRQ ? 'rrq' : 'wrq',
        filename,
        mode: mode.toLowerCase(),
        options: parseOptions(parts.slice(2)),
      };
    }
    case OP_DATA:
      if (buf.length < 4) throw new TftpDecodeError('too-short', 'DATA header');
      return { op: 'data', block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case OP_ACK:
      // Extra bytes after the block number are tolerated (some stacks pad small frames).
      if (buf.length < 4) throw new TftpDecodeError('too-short', 'ACK');
      return { op: 'ack', block: buf.readUInt16BE(2) };
    case OP_ERROR: {
      if (buf.length < 4) throw new TftpDecodeError('too-short', 'ERROR');
      // Lenient on the message: the code is what matters (EDK2's probe abort must never be lost).
      const nul = buf.indexOf(0, 4);
      const message = buf.toString('utf8', 4, nul < 0 ? buf.length : nul);
      return { op: 'error', code: buf.readUInt16BE(2), message };
    }
    case OP_OACK:
      return { op: 'oack', options: parseOptions(readStrings(buf, 2)) };
    default:
      throw new TftpDecodeError('unknown-opcode', String(opcode));
  }
}

function encodeStrings(opcode: number, strings: string[]): Buffer {
  let len = 2;
  for (const s of strings) len += Buffer.byteLength(s) + 1;
  const buf = Buffer.alloc(len);
  buf.writeUInt16BE(opcode, 0);
  let pos = 2;
  for (const s of strings) {
    pos += buf.write(s, pos);
    buf[pos++] = 0;
  }
  return buf;
}

export function encodeRequest(
  op: 'rrq' | 'wrq',
  filename: string,
  mode: string,
  options: Iterable<[string, string]> = [],
): Buffer {
  const strings = [filename, mode];
  for (const [k, v] of options) strings.push(k, v);
  return encodeStrings(op === 'rrq' ? OP_RRQ : OP_WRQ, strings);
}

export function encodeOack(options: Iterable<[string, string]>): Buffer {
  const strings: string[] = [];
  for (const [k, v] of options) strings.push(k, v);
  return encodeStrings(OP_OACK, strings);
}

/** Writes the 4-byte DATA header in place (the transfer prewrites it into reused buffers). */
export function writeDataHeader(buf: Buffer, block: number): void {
  buf.writeUInt16BE(OP_DATA, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
}

export function encodeData(block: number, data: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(4 + data.length);
  writeDataHeader(buf, block);
  data.copy(buf, 4);
  return buf;
}

export function encodeAck(block: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt16BE(OP_ACK, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
  return buf;
}

export function encodeError(code: number, message: string): Buffer {
  const out = Buffer.alloc(4 + Buffer.byteLength(message) + 1);
  out.writeUInt16BE(OP_ERROR, 0);
  out.writeUInt16BE(code & 0xffff, 2);
  out.write(message, 4);
  return out;
}
