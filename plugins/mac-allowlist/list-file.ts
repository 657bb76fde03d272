import { readFile } from 'node:fs/promises';
import { type MacPattern, parseMacPattern } from 'pxekit/kit';

export interface ParsedList {
  patterns: MacPattern[];
  /** Lines that were skipped, with `file:line` and why. */
  bad: Array<{ where: string; error: string }>;
}

/**
 * Reads an allowlist file: one MAC, OUI or pattern per line; `#` starts a comment (whole line or
 * trailing); blank lines are ignored. A bad line is reported with file:line and skipped, so one typo
 * does not lock every machine out.
 */
export async function readListFile(file: string): Promise<ParsedList> {
  return parseList(await readFile(file, 'utf8'), file);
}

export function parseList(text: string, file: string): ParsedList {
  const patterns: MacPattern[] = [];
  const bad: ParsedList['bad'] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const p = parseMacPattern(line);
    if ('error' in p) bad.push({ where: `${file}:${i + 1}`, error: p.error });
    else patterns.push(p);
  });
  return { patterns, bad };
}
