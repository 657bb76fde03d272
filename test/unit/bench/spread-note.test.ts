import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spreadNote } from '../../../bench/lib/loads.js';

test('the spread of a concurrent load names its fastest, slowest, median and p99 transfer', () => {
  const times = Array.from({ length: 100 }, (_, i) => 8 + i / 100);
  times[57] = 13.2; // one transfer held up by a lost packet
  assert.equal(spreadNote(times), 'each 8.0-13.2 s, p50 8.5 s, p99 13.2 s');
});

test('unparsable times are left out; fewer than two transfers give no spread', () => {
  assert.equal(spreadNote([Number.NaN, 3]), '');
  assert.equal(spreadNote([2, Number.NaN, 4]), 'each 2.0-4.0 s, p50 4.0 s, p99 4.0 s');
});
