/**
 * The one result table: a row per (bench, metric, target) with the value and its ratio to the
 * first target that measured that metric (the reference: dnsmasq, or nginx for HTTP).
 */
import type { Row } from './types.js';

export type RowOf = (metric: string, unit: string, value: number | undefined, note: string, higher?: boolean) => Row;

/** A row maker for one bench and target (`higher`: whether bigger is better, the default). */
export const rowOf =
  (bench: string, target: { name: string }): RowOf =>
  (metric, unit, value, note, higher = true) => ({
    bench,
    metric,
    unit,
    target: target.name,
    value,
    note,
    higherIsBetter: higher,
  });

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The printed table's columns, in order (bench/docs-tables.ts reads them back). */
export const TABLE_COLUMNS = ['bench', 'metric', 'target', 'value', 'unit', 'ratio', 'note'] as const;

/** Text table (Markdown pipe syntax, so it can be pasted into docs as is). */
export function formatTable(rows: readonly Row[]): string {
  const head: string[] = [...TABLE_COLUMNS];
  const body: string[][] = [];
  const baseline = new Map<string, Row>();
  for (const r of rows) {
    const key = `${r.bench}\0${r.metric}`;
    if (r.value !== undefined && !baseline.has(key)) baseline.set(key, r);
    const base = baseline.get(key);
    let ratio = '';
    if (r.value !== undefined && base?.value !== undefined) {
      ratio =
        base === r
          ? '1.00 (ref)'
          : base.value > 0
            ? `${(r.value / base.value).toFixed(2)}${r.higherIsBetter ? '' : ' (lower=better)'}`
            : 'n/a';
    }
    // Notes carry tool output: one line, no pipes, so the table stays a table.
    const note = (r.note ?? '').replace(/\s+/g, ' ').replace(/\|/g, '/').trim();
    body.push([r.bench, r.metric, r.target, r.value === undefined ? '-' : fmt(r.value), r.unit, ratio, note]);
  }
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i] ?? 0)).join(' | ')} |`;
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function printTable(title: string, rows: readonly Row[]): void {
  process.stdout.write(`\n## ${title}\n\n${formatTable(rows)}\n\n`);
}
