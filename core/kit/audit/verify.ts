import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GENESIS, parseLine, sha256Hex } from './chain.js';

export interface VerifyBad {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  /** `hash` of the last good record: the value to anchor elsewhere. */
  head?: string;
  /** True when the chain starts mid-way (seq > 1): its first `prev` could not be checked. */
  partial: boolean;
  bad?: VerifyBad;
}

/**
 * Checks one audit chain spread over `files`, oldest first (e.g. `audit.jsonl.2 audit.jsonl.1
 * audit.jsonl`): every line's own hash, `seq` without gaps, and `prev` = SHA-256 of the line before,
 * across file boundaries. Stops at the first bad line. Streams, so any file size works.
 */
export async function verifyAuditFiles(files: string[]): Promise<VerifyResult> {
  let prevLine: string | undefined;
  let prevSeq: number | undefined;
  let records = 0;
  let firstSeq: number | undefined;
  let head: string | undefined;
  let partial = false;
  const result = (bad?: VerifyBad): VerifyResult => ({
    ok: bad === undefined,
    records,
    partial,
    ...(firstSeq !== undefined ? { firstSeq } : {}),
    ...(prevSeq !== undefined ? { lastSeq: prevSeq } : {}),
    ...(head !== undefined ? { head } : {}),
    ...(bad ? { bad } : {}),
  });
  for (const file of files) {
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let lineNo = 0;
    try {
      for await (const line of rl) {
        lineNo++;
        const bad = (reason: string) => result({ file, line: lineNo, reason });
        if (line.length === 0) return bad('empty line');
        const p = parseLine(line);
        if (!p.ok) return bad(p.reason);
        if (prevSeq === undefined) {
          firstSeq = p.seq;
          if (p.seq === 1 && p.prev !== GENESIS)
            return bad('first record (seq 1) does not chain from the genesis value');
          if (p.seq > 1) partial = true;
        } else {
          if (p.seq !== prevSeq + 1)
            return bad(`seq jumps from ${prevSeq} to ${p.seq} (records removed, inserted or reordered)`);
          if (p.prev !== sha256Hex(prevLine!))
            return bad(
              '"prev" does not match the line before (that line was altered, or lines were removed or inserted)',
            );
        }
        prevLine = line;
        prevSeq = p.seq;
        head = p.hash;
        records++;
      }
    } catch (err) {
      return result({ file, line: lineNo + 1, reason: `cannot read: ${(err as Error).message}` });
    } finally {
      rl.close();
    }
  }
  return result();
}
