/**
 * Option negotiation for read requests: RFC 2347 (framework), 2348 (blksize), 2349 (timeout, tsize),
 * 7440 (windowsize). Only options the client asked for are ever acknowledged: EFI PXE clients reject an
 * OACK carrying an unrequested `tsize` as malformed (firmware-quirks.md).
 * Invalid values (out of range, non-numeric) are ignored, i.e. left out of the OACK, which RFC 2347 §4
 * allows; the client then uses the RFC 1350 default for that option. No case here needs error 8.
 */
import type { RequestOptions } from './codec.js';

export const DEFAULT_BLKSIZE = 512;
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;
export const MAX_WINDOWSIZE = 65535;

/** What the server acknowledges. An absent field is not acknowledged (not in the OACK). */
export interface TftpOptions {
  /** RFC 2348, bytes per DATA block. */
  blksize?: number;
  /** RFC 2349, seconds; the server must echo the client's value, so it can only be kept or dropped. */
  timeout?: number;
  /** RFC 2349, the file size answered in the OACK. */
  tsize?: number;
  /** RFC 7440, blocks sent before waiting for an ACK. */
  windowsize?: number;
}

export interface NegotiationLimits {
  /** Configured maximum blksize (default 1468 = Ethernet MTU 1500 − IP 20 − UDP 8 − TFTP 4). */
  maxBlksize: number;
  /** Maximum derived from the MTU of the interface facing this client, if known. */
  mtuBlksize?: number;
  /** Cap on windowsize (default 64). */
  windowsizeCap: number;
}

/** Parameters a transfer runs with once negotiation is over. */
export interface TransferParams {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** The client negotiated `timeout` (RFC 2349): use it as is, no backoff. */
  fixedTimeout?: boolean;
}

/** RFC-strict unsigned decimal; `parseInt` would accept `12abc` and `0x10`. */
export function parseDecimal(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * First pass: what the server is willing to acknowledge, from what the client asked and the limits.
 * `fileSize` is the size to answer to `tsize` (undefined: tsize not offered, e.g. unknown size).
 */
export function negotiateOptions(
  requested: RequestOptions,
  limits: NegotiationLimits,
  fileSize: number | undefined,
): TftpOptions {
  const out: TftpOptions = {};
  const v = requested.values;

  const blksize = parseDecimal(v.get('blksize'));
  if (blksize !== undefined && blksize >= MIN_BLKSIZE && blksize <= MAX_BLKSIZE) {
    let max = Math.max(MIN_BLKSIZE, limits.maxBlksize);
    if (limits.mtuBlksize !== undefined) max = Math.min(max, Math.max(MIN_BLKSIZE, limits.mtuBlksize));
    out.blksize = Math.min(blksize, max);
  }

  const timeout = parseDecimal(v.get('timeout'));
  if (timeout !== undefined && timeout >= 1 && timeout <= 255) out.timeout = timeout;

  // RFC 2349: the client sends tsize=0 in an RRQ. Any numeric value is taken as the question.
  // An empty file's tsize is left out: curl (7.88) rejects `tsize 0` in an OACK as invalid and aborts.
  if (v.has('tsize') && parseDecimal(v.get('tsize')) !== undefined && fileSize !== undefined && fileSize > 0) {
    out.tsize = fileSize;
  }

  const windowsize = parseDecimal(v.get('windowsize'));
  if (windowsize !== undefined && windowsize >= 1 && windowsize <= MAX_WINDOWSIZE) {
    out.windowsize = Math.min(windowsize, Math.max(1, limits.windowsizeCap));
  }
  return out;
}

/**
 * After the `negotiate` hook: a plugin may lower or drop values, never add an option the client did not
 * ask for, raise a value above the client's, change `timeout`, or alter `tsize`.
 */
export function sanitizeOptions(fromHook: TftpOptions, offered: TftpOptions, requested: RequestOptions): TftpOptions {
  const out: TftpOptions = {};
  const v = requested.values;
  const reqBlk = parseDecimal(v.get('blksize'));
  if (fromHook.blksize !== undefined && offered.blksize !== undefined && reqBlk !== undefined) {
    const b = Math.floor(fromHook.blksize);
    if (b >= MIN_BLKSIZE) out.blksize = Math.min(b, reqBlk, MAX_BLKSIZE);
  }
  if (fromHook.timeout !== undefined && offered.timeout !== undefined) out.timeout = offered.timeout;
  if (fromHook.tsize !== undefined && offered.tsize !== undefined) out.tsize = offered.tsize;
  const reqWin = parseDecimal(v.get('windowsize'));
  if (fromHook.windowsize !== undefined && offered.windowsize !== undefined && reqWin !== undefined) {
    const w = Math.floor(fromHook.windowsize);
    if (w >= 1) out.windowsize = Math.min(w, reqWin, MAX_WINDOWSIZE);
  }
  return out;
}

/** OACK entries in the order the client sent its options (some firmware parsers are order-sensitive). */
export function oackEntries(acked: TftpOptions, requested: RequestOptions): [string, string][] {
  const out: [string, string][] = [];
  for (const name of requested.values.keys()) {
    const value = acked[name as keyof TftpOptions];
    if (value !== undefined) out.push([name, String(value)]);
  }
  return out;
}

export function transferParams(acked: TftpOptions, defaultTimeoutMs: number): TransferParams {
  return {
    blksize: acked.blksize ?? DEFAULT_BLKSIZE,
    windowsize: acked.windowsize ?? 1,
    timeoutMs: acked.timeout !== undefined ? acked.timeout * 1000 : defaultTimeoutMs,
    ...(acked.timeout !== undefined ? { fixedTimeout: true } : {}),
  };
}

export function hasOptions(acked: TftpOptions): boolean {
  return (
    acked.blksize !== undefined ||
    acked.timeout !== undefined ||
    acked.tsize !== undefined ||
    acked.windowsize !== undefined
  );
}
