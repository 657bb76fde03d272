/**
 * The on-disk record format of the lease file: one line per record,
 * `<crc32 of the JSON, 8 hex digits> <JSON>\n`. A line is accepted only when it ends in `\n`, its
 * CRC matches and its JSON has the expected shape, so a torn write (a crash mid-append) or a
 * flipped bit is always detected, never silently replayed.
 */
import { crc32 } from 'node:zlib';
import type { Lease, LeaseState } from 'pxekit/kit';

/** A log record: the lease as stored after one mutation, with its sequence number. */
export interface LogRecord {
  q: number;
  l: Lease;
}
/** The first line of a snapshot: the last sequence number it includes and how many leases follow. */
export interface SnapshotHeader {
  v: 1;
  q: number;
  n: number;
}

const STATES: ReadonlySet<LeaseState> = new Set(['offered', 'bound', 'released', 'declined']);

/** One framed line (with its newline). */
export function frame(value: unknown): string {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** A lease with its keys in one order (smaller diffs, one object shape for JSON.stringify). */
export function ordered(l: Lease): Lease {
  return {
    ip: l.ip,
    mac: l.mac,
    state: l.state,
    expiresAt: l.expiresAt,
    subnet: l.subnet,
    updatedAt: l.updatedAt,
    ...(l.clientId !== undefined ? { clientId: l.clientId } : {}),
    ...(l.hostname !== undefined ? { hostname: l.hostname } : {}),
  };
}

const str = JSON.stringify;

/**
 * `frame({ q, l: ordered(l) })`, built by hand: this runs once per OFFER and per ACK, and a template
 * over known fields is several times cheaper than generic JSON.stringify of two fresh objects.
 */
export function logLine(q: number, l: Lease): string {
  const json =
    `{"q":${q},"l":{"ip":${str(l.ip)},"mac":${str(l.mac)},"state":"${l.state}","expiresAt":${l.expiresAt},` +
    `"subnet":${str(l.subnet)},"updatedAt":${l.updatedAt}` +
    (l.clientId !== undefined ? `,"clientId":${str(l.clientId)}` : '') +
    (l.hostname !== undefined ? `,"hostname":${str(l.hostname)}` : '') +
    '}}';
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The JSON value of one line (without its newline), or a reason why the line is not a record. */
export function unframe(line: string): { value: unknown } | { error: string } {
  if (line.length < 10 || line[8] !== ' ') return { error: 'not a framed record' };
  const crc = Number.parseInt(line.slice(0, 8), 16);
  const json = line.slice(9);
  if (!/^[0-9a-f]{8}$/.test(line.slice(0, 8)) || crc32(json) !== crc) return { error: 'CRC mismatch' };
  try {
    return { value: JSON.parse(json) as unknown };
  } catch (e) {
    return { error: `bad JSON: ${(e as Error).message}` };
  }
}

/** The lease in a decoded value, or undefined when its shape is wrong. */
export function asLease(v: unknown): Lease | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const l = v as Record<string, unknown>;
  const ok =
    typeof l.ip === 'string' &&
    typeof l.mac === 'string' &&
    STATES.has(l.state as LeaseState) &&
    typeof l.expiresAt === 'number' &&
    typeof l.subnet === 'string' &&
    typeof l.updatedAt === 'number' &&
    (l.clientId === undefined || typeof l.clientId === 'string') &&
    (l.hostname === undefined || typeof l.hostname === 'string');
  if (!ok) return undefined;
  return {
    ip: l.ip as string,
    mac: l.mac as string,
    state: l.state as LeaseState,
    expiresAt: l.expiresAt as number,
    subnet: l.subnet as string,
    updatedAt: l.updatedAt as number,
    ...(l.clientId !== undefined ? { clientId: l.clientId as string } : {}),
    ...(l.hostname !== undefined ? { hostname: l.hostname as string } : {}),
  };
}

export function asLogRecord(v: unknown): LogRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const l = asLease(r.l);
  return Number.isSafeInteger(r.q) && l ? { q: r.q as number, l } : undefined;
}

export function asSnapshotHeader(v: unknown): SnapshotHeader | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Record<string, unknown>;
  return h.v === 1 && Number.isSafeInteger(h.q) && Number.isSafeInteger(h.n)
    ? { v: 1, q: h.q as number, n: h.n as number }
    : undefined;
}
