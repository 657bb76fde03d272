import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { GENESIS, parseLine, sha256Hex } from 'pxekit/kit';

/** Where a new record continues an existing chain. */
export interface ChainTail {
  /** `seq` of the last record written (0 for a new chain). */
  seq: number;
  /** SHA-256 of the last line (GENESIS for a new chain). */
  prev: string;
  /** The file ends in a partial line (a crash mid-write): start on a new line. */
  torn: boolean;
  /** The last line is not a valid record (verify will report it). */
  unreadable: boolean;
}

const TAIL_CHUNK = 1 << 20;

/** Reads the last line of `file` (bounded read from the end). Undefined when missing or empty. */
async function lastLine(file: string): Promise<{ line: string; torn: boolean } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return undefined;
    const len = Math.min(size, TAIL_CHUNK);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    let text = buf.toString('utf8');
    const torn = !text.endsWith('\n');
    if (!torn) text = text.slice(0, -1);
    const nl = text.lastIndexOf('\n');
    return { line: nl === -1 ? text : text.slice(nl + 1), torn };
  } finally {
    await fh.close();
  }
}

/**
 * Finds where to continue the chain: the last line of `file`, else (a rotation just left an empty
 * file) the last line of `file.1`, else a new chain from GENESIS.
 */
export async function readChainTail(file: string): Promise<ChainTail> {
  const last =
    (await lastLine(file)) ?? (await lastLine(`${file}.1`).then((l) => (l ? { ...l, torn: false } : undefined)));
  if (!last) return { seq: 0, prev: GENESIS, torn: false, unreadable: false };
  const parsed = parseLine(last.line);
  return {
    seq: parsed.ok ? parsed.seq : 0,
    prev: sha256Hex(last.line),
    torn: last.torn,
    unreadable: !parsed.ok,
  };
}
