import { createHash } from 'node:crypto';

/**
 * The audit log's hash chain (docs/observability.md, "Audit log"). Each line is one JSON object:
 *
 *   {"seq":N, ...record..., "prev":"<sha256 hex of the previous line>","hash":"<sha256 hex of this line up to prev>"}
 *
 * - `prev` is the SHA-256 of the previous line's exact bytes (without its newline); the first record
 *   ever written chains from GENESIS, and the first record of a file made by rotation chains from the
 *   last line of the file it replaced (now `FILE.1`), so rotated files verify as one chain.
 * - `hash` is the SHA-256 of the line's own text with `,"hash":"…"` removed (i.e. the JSON object
 *   ending in `"prev":"…"}`): an edited line fails at that line, not only at the next one.
 * - `seq` counts written records, 1, 2, 3 … across rotations: a removed line leaves a gap.
 * This detects edits, removals and insertions by anyone who does not also rewrite every later line;
 * to also catch a full rewrite, copy the latest `hash` somewhere else (pxekit logs it at close).
 */
export const GENESIS = '0'.repeat(64);

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Serialises one record as a chained line (no newline). `seq` comes first for readability. */
export function sealLine(record: object, seq: number, prev: string, lost?: number): string {
  const body = JSON.stringify({ seq, ...record, ...(lost ? { lost } : {}), prev });
  return `${body.slice(0, -1)},"hash":"${sha256Hex(body)}"}`;
}

const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;

export type ParsedLine =
  | { ok: true; seq: number; prev: string; hash: string; record: Record<string, unknown> }
  | { ok: false; reason: string };

/** Parses and self-checks one line (its own `hash`); the link to the previous line is the caller's. */
export function parseLine(line: string): ParsedLine {
  const m = HASH_SUFFIX.exec(line);
  if (!m) return { ok: false, reason: 'not an audit record (no trailing "hash" field)' };
  const body = `${line.slice(0, m.index)}}`;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not valid JSON (torn or edited line)' };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return { ok: false, reason: 'not a JSON object' };
  const r = record as Record<string, unknown>;
  if (!Number.isSafeInteger(r['seq']) || (r['seq'] as number) < 1) return { ok: false, reason: 'missing or bad "seq"' };
  if (typeof r['prev'] !== 'string' || !/^[0-9a-f]{64}$/.test(r['prev']))
    return { ok: false, reason: 'missing or bad "prev"' };
  const hash = m[1]!;
  if (sha256Hex(body) !== hash) return { ok: false, reason: 'content does not match its "hash" (line was edited)' };
  return { ok: true, seq: r['seq'] as number, prev: r['prev'], hash, record: r };
}
