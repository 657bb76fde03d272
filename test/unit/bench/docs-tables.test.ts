import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOCS_HEAD, docsRowsByBench, replaceTables } from '../../../bench/docs-tables.js';
import { formatTable } from '../../../bench/lib/report.js';
import type { Row } from '../../../bench/lib/types.js';

const row = (bench: string, target: string, value: number | undefined, note = '', higher = true): Row => ({
  bench,
  metric: 'rate',
  unit: 'MiB/s',
  target,
  value,
  note,
  higherIsBetter: higher,
});

// Progress and a per-bench table first (the final table is the one that counts), then the final table.
const log = (rows: Row[]) =>
  '[bench 10:00] progress\n\n## TFTP\n\n| stale | table |\n\n' +
  `## pxekit bench (2026-12-06T10:00Z, 60 s)\n\n${formatTable(rows)}\n\nskipped x\n`;

const page = [
  '# Benchmarks',
  '',
  '## DHCP',
  '',
  'prose',
  '',
  DOCS_HEAD,
  '|---|---|---|---|---|',
  '| old | dhcp | 1 x | 1.00 (ref) | |',
  '',
  'after dhcp',
  '',
  '## TFTP',
  '',
  DOCS_HEAD,
  '|---|---|---|---|---|',
  '| old | a | 1 x | 1.00 (ref) | |',
  '| old | b | 2 x | 2.00 | |',
  '',
  'after tftp',
  '',
].join('\n');

test('the final table becomes one docs table per bench: value with its unit, ratio and note kept', () => {
  const rows = [
    row('tftp', 'dnsmasq', 80.94, 'median of 3'),
    row('tftp', 'pxekit', 86.4, 'a | b'),
    row('dhcp', 'kea', 4000),
  ];
  const byBench = docsRowsByBench(log(rows));
  assert.deepEqual([...byBench.keys()], ['tftp', 'dhcp']);
  assert.deepEqual(byBench.get('tftp'), [
    '| rate | dnsmasq | 80.9 MiB/s | 1.00 (ref) | median of 3 |',
    '| rate | pxekit | 86.4 MiB/s | 1.07 | a / b |',
  ]);
});

test('each section keeps its prose; only its table is replaced, rows and all', () => {
  const rows = [row('tftp', 'dnsmasq', 10), row('dhcp', 'kea', 5), row('dhcp', 'pxekit', 4, '', false)];
  const out = replaceTables(page, docsRowsByBench(log(rows)));
  assert.ok(out.includes('prose') && out.includes('after dhcp') && out.includes('after tftp'));
  assert.ok(!out.includes('| old |'));
  assert.ok(out.includes('| rate | dnsmasq | 10.0 MiB/s | 1.00 (ref) |  |\n\nafter tftp'));
  assert.ok(out.includes('| rate | pxekit | 4.00 MiB/s | 0.80 (lower=better) |  |\n\nafter dhcp'));
});

test('a run that did not finish, or a bench without a section, is an error, not a half-rewritten page', () => {
  assert.throws(() => docsRowsByBench('[bench] dhcp: 3 rounds\n'), /did the run finish/);
  assert.throws(
    () => replaceTables(page, docsRowsByBench(log([row('storm', 'pxekit', 1)]))),
    /no section starting "## Boot storm"/,
  );
  assert.throws(() => replaceTables(page, docsRowsByBench(log([row('nope', 'x', 1)]))), /has no section/);
});
