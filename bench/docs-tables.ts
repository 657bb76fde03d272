/**
 * Rewrites the result tables of docs/benchmarks.md from the output of one `npm run bench`, so the page's
 * tables are exactly what that run printed (the prose around them, the floors table and "The run" are
 * edited by hand: they quote rounds and say what changed).
 *
 * Usage: npm run bench > bench.log; node --import tsx bench/docs-tables.ts bench.log [docs/benchmarks.md]
 * Reads the final table (`## pxekit bench (...)`), groups its rows by bench, and replaces the table under
 * each bench's section (the first table after the heading whose columns are metric | target | value |
 * ratio to ref | note). A bench missing from the log leaves its section alone; a section missing from the
 * page is an error, as is a log without the final table (a run that did not finish).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TABLE_COLUMNS } from './lib/report.js';

/** The section heading (start of the line) that holds each bench's table. */
export const SECTIONS: Readonly<Record<string, string>> = {
  dhcp: '## DHCP\n',
  dhcp6: '## DHCPv6 (',
  'dhcp-cold': '## DHCP from a cold start',
  'dhcp-flood': '## DHCP after a flood',
  tftp: '## TFTP\n',
  http: '## HTTP\n',
  boot: '## Linux to userspace',
  storm: '## Boot storm',
};

export const DOCS_HEAD = '| metric | target | value | ratio to ref | note |';
const DOCS_RULE = '|---|---|---|---|---|';

const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/** The final table's rows in docs form, grouped by bench (in the order they were printed). */
export function docsRowsByBench(log: string): Map<string, string[]> {
  const start = log.lastIndexOf('\n## pxekit bench (');
  if (start < 0) throw new Error('no final table ("## pxekit bench (...)") in the log: did the run finish?');
  const lines = log.slice(start).split('\n').slice(1);
  const table = lines.slice(lines.findIndex((l) => l.startsWith('|')));
  if (cells(table[0] ?? '').join('|') !== TABLE_COLUMNS.join('|'))
    throw new Error(`the final table's columns are not ${TABLE_COLUMNS.join(', ')} (bench/lib/report.ts changed?)`);
  const out = new Map<string, string[]>();
  for (const line of table.slice(2)) {
    if (!line.startsWith('|')) break;
    const [bench, metric, target, value, unit, ratio, ...note] = cells(line);
    if (bench === undefined || metric === undefined) continue;
    const shown = value === '-' ? '-' : `${value} ${unit}`.trim();
    const row = `| ${metric} | ${target} | ${shown} | ${ratio} | ${note.join('/')} |`;
    out.set(bench, [...(out.get(bench) ?? []), row]);
  }
  return out;
}

/** The page with each bench's table replaced; throws when a bench's section or table is not found. */
export function replaceTables(page: string, byBench: Map<string, string[]>): string {
  let text = page;
  for (const [bench, rows] of byBench) {
    const heading = SECTIONS[bench];
    if (heading === undefined) throw new Error(`bench "${bench}" has no section in SECTIONS (bench/docs-tables.ts)`);
    const at = text.indexOf(`\n${heading}`);
    if (at < 0) throw new Error(`docs: no section starting "${heading.trim()}" for bench "${bench}"`);
    const head = text.indexOf(`\n${DOCS_HEAD}\n`, at);
    const next = text.indexOf('\n## ', at + 1);
    if (head < 0 || (next >= 0 && head > next)) throw new Error(`docs: no result table in "${heading.trim()}"`);
    const bodyStart = head + DOCS_HEAD.length + 2;
    // The old table ends at the first line after the rule that is not a table row (or at the page's end).
    const lineEnd = (from: number) => {
      const nl = text.indexOf('\n', from);
      return nl < 0 ? text.length : nl;
    };
    let end = lineEnd(bodyStart);
    while (end < text.length && text.startsWith('|', end + 1)) end = lineEnd(end + 1);
    text = `${text.slice(0, head)}\n${DOCS_HEAD}\n${DOCS_RULE}\n${rows.join('\n')}${text.slice(end)}`;
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [logPath, docsPath = 'docs/benchmarks.md'] = process.argv.slice(2);
  if (!logPath) {
    process.stderr.write('usage: bench/docs-tables.ts <bench output> [docs/benchmarks.md]\n');
    process.exit(2);
  }
  const byBench = docsRowsByBench(readFileSync(logPath, 'utf8'));
  writeFileSync(docsPath, replaceTables(readFileSync(docsPath, 'utf8'), byBench));
  process.stdout.write(`${docsPath}: replaced the tables of ${[...byBench.keys()].join(', ')}\n`);
}
