import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestOptions } from '../../../core/tftp/codec.js';
import { negotiateOptions, oackEntries, sanitizeOptions, transferParams } from '../../../core/tftp/options.js';

const req = (o: Record<string, string>): RequestOptions => ({ values: new Map(Object.entries(o)), duplicates: [] });
const limits = { maxBlksize: 1468, windowsizeCap: 64 };

test('only requested options are acknowledged: no unrequested tsize (EFI rejects it)', () => {
  assert.deepEqual(negotiateOptions(req({}), limits, 1000), {});
  assert.deepEqual(negotiateOptions(req({ blksize: '1468', windowsize: '4' }), limits, 850528), {
    blksize: 1468,
    windowsize: 4,
  });
});

test('tsize=0 is answered with the file size; no size known → not acknowledged', () => {
  assert.deepEqual(negotiateOptions(req({ tsize: '0' }), limits, 850528), { tsize: 850528 });
  assert.deepEqual(negotiateOptions(req({ tsize: '0' }), limits, undefined), {});
  assert.deepEqual(negotiateOptions(req({ tsize: 'abc' }), limits, 5), {});
  assert.deepEqual(negotiateOptions(req({ tsize: '0' }), limits, 0), {}, 'curl rejects tsize 0 in an OACK');
});

test('blksize: clamped to the configured max and the MTU-derived max; invalid values ignored', () => {
  assert.equal(negotiateOptions(req({ blksize: '8192' }), limits, 1).blksize, 1468);
  assert.equal(negotiateOptions(req({ blksize: '8192' }), { ...limits, mtuBlksize: 1400 }, 1).blksize, 1400);
  assert.equal(negotiateOptions(req({ blksize: '1024' }), limits, 1).blksize, 1024);
  assert.equal(negotiateOptions(req({ blksize: '8' }), limits, 1).blksize, 8);
  assert.equal(negotiateOptions(req({ blksize: '65464' }), { maxBlksize: 65464, windowsizeCap: 1 }, 1).blksize, 65464);
  for (const bad of ['0', '7', '65465', '70000', '', 'abc', '12abc', '0x10', '-1', '1e3']) {
    assert.equal(negotiateOptions(req({ blksize: bad }), limits, 1).blksize, undefined, `blksize=${bad}`);
  }
});

test('timeout 1..255 echoed as asked; windowsize 1..65535 clamped to the cap', () => {
  assert.equal(negotiateOptions(req({ timeout: '6' }), limits, 1).timeout, 6);
  assert.equal(negotiateOptions(req({ timeout: '0' }), limits, 1).timeout, undefined);
  assert.equal(negotiateOptions(req({ timeout: '256' }), limits, 1).timeout, undefined);
  assert.equal(negotiateOptions(req({ windowsize: '8' }), limits, 1).windowsize, 8);
  assert.equal(negotiateOptions(req({ windowsize: '1000' }), limits, 1).windowsize, 64);
  assert.equal(negotiateOptions(req({ windowsize: '0' }), limits, 1).windowsize, undefined);
  assert.equal(negotiateOptions(req({ windowsize: '65536' }), limits, 1).windowsize, undefined);
});

test('a negotiate hook may lower or drop, never add, raise or change timeout/tsize', () => {
  const r = req({ blksize: '1468', tsize: '0', timeout: '6' });
  const offered = negotiateOptions(r, limits, 100);
  assert.deepEqual(sanitizeOptions({ ...offered, blksize: 1024 }, offered, r), {
    blksize: 1024,
    tsize: 100,
    timeout: 6,
  });
  assert.deepEqual(sanitizeOptions({ ...offered, blksize: 9000, timeout: 3, tsize: 5, windowsize: 16 }, offered, r), {
    blksize: 1468,
    tsize: 100,
    timeout: 6,
  });
  assert.deepEqual(sanitizeOptions({ blksize: 4 }, offered, r), {});
});

test('OACK entries follow the request order; transfer params default to RFC 1350', () => {
  const r = req({ tsize: '0', blksize: '1468', windowsize: '4', foo: 'bar' });
  const acked = negotiateOptions(r, limits, 7);
  assert.deepEqual(oackEntries(acked, r), [
    ['tsize', '7'],
    ['blksize', '1468'],
    ['windowsize', '4'],
  ]);
  assert.deepEqual(transferParams({}, 1000), { blksize: 512, windowsize: 1, timeoutMs: 1000 });
  assert.deepEqual(transferParams({ timeout: 3, blksize: 8 }, 1000), {
    blksize: 8,
    windowsize: 1,
    timeoutMs: 3000,
    fixedTimeout: true,
  });
});
