import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MachineResult, StormResult } from '../../../bench/lib/storm-machines.js';
import { median, summarizeStorm, timeToBooted } from '../../../bench/lib/storm-stats.js';

const machine = (powerOnMs: number, httpMs: number | undefined): MachineResult => ({
  powerOnMs,
  stageMs: { dhcp: 10, tftp: 100, ...(httpMs === undefined ? {} : { http: httpMs }) },
  tftpTimeouts: 0,
  tftpOutOfOrder: 0,
  ...(httpMs === undefined ? { failed: { stage: 'dhcp' as const, reason: 'NAK: address in use' } } : {}),
});

const storm = (machines: MachineResult[]): StormResult => ({ machines, wallMs: 9999, clientCpuMs: 0, workers: 2 });

test('the wall runs from the first power-on to the last booted machine; failed machines do not count', () => {
  const s = summarizeStorm(storm([machine(100, 1000), machine(300, 2000), machine(200, undefined)]));
  assert.equal(s.wallMs, 2200); // machine 2 done at 300 + 2000, first power-on at 100
  assert.deepEqual(s.bootedAtMs, [1000, 2200]);
  assert.equal(s.failed, 1);
  assert.match(s.failedNote, /^dhcp 1 \(NAK/);
});

test('time to k booted machines compares stacks that booted different numbers', () => {
  // Stack A booted 3 machines, stack B 2: at equal work (k = 2) A is judged by its second machine.
  const a = summarizeStorm(storm([machine(0, 500), machine(0, 900), machine(0, 4000)]));
  const b = summarizeStorm(storm([machine(0, 800), machine(0, 1200), machine(0, undefined)]));
  assert.equal(a.wallMs, 4000);
  assert.equal(b.wallMs, 1200);
  assert.equal(timeToBooted(a, 2), 900);
  assert.equal(timeToBooted(b, 2), 1200);
  assert.equal(timeToBooted(b, 3), undefined);
  assert.equal(timeToBooted(b, 0), undefined);
});

test('median is the middle value (upper middle for an even count), 0 when empty', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 3);
  assert.equal(median([]), 0);
});
