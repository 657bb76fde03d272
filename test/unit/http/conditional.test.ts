import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contentRange,
  decideRange,
  ifRangeMatches,
  isNotModified,
  validatorsFor,
} from '../../../core/http/conditional.js';

const mtime = new Date('2026-01-02T03:04:05Z');
const strong = { etag: '"abc-1"', lastModified: mtime.toUTCString() };
const weak = validatorsFor({ size: 1000, mtime });

test('validators: a source ETag is kept; without one a weak ETag comes from size and mtime; no mtime, no ETag', () => {
  assert.deepEqual(validatorsFor({ size: 10, mtime, etag: '"x"' }), {
    etag: '"x"',
    lastModified: 'Fri, 02 Jan 2026 03:04:05 GMT',
  });
  assert.equal(weak.etag, `W/"3e8-${mtime.getTime().toString(16)}"`);
  assert.notEqual(validatorsFor({ size: 1001, mtime }).etag, weak.etag);
  assert.notEqual(validatorsFor({ size: 1000, mtime: new Date(mtime.getTime() + 1000) }).etag, weak.etag);
  assert.deepEqual(validatorsFor({ size: 10 }), {});
  assert.deepEqual(validatorsFor({ size: 10, mtime: new Date(NaN) }), {});
});

test('range: none, single, suffix, open-ended, clamped end', () => {
  assert.deepEqual(decideRange(1000, undefined, undefined, strong), { kind: 'full' });
  assert.deepEqual(decideRange(1000, 'bytes=0-99', undefined, strong), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(decideRange(1000, 'bytes=-100', undefined, strong), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(decideRange(1000, 'bytes=990-', undefined, strong), { kind: 'partial', start: 990, end: 999 });
  assert.deepEqual(decideRange(1000, 'bytes=990-5000', undefined, strong), { kind: 'partial', start: 990, end: 999 });
});

test('range: unsatisfiable is 416; malformed, other units and several ranges fall back to the full body', () => {
  assert.deepEqual(decideRange(1000, 'bytes=1000-', undefined, strong), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange(0, 'bytes=0-', undefined, strong), { kind: 'unsatisfiable' });
  // last < first leaves no valid range: 416 (RFC 9110 §15.5.17 allows it for rejected ranges).
  assert.deepEqual(decideRange(1000, 'bytes=5-2', undefined, strong), { kind: 'unsatisfiable' });
  for (const bad of ['bytes=abc', 'bits=0-1', 'garbage', 'bytes=0-1,5-6', 'bytes=0-1,-1']) {
    assert.deepEqual(decideRange(1000, bad, undefined, strong), { kind: 'full' }, bad);
  }
  // Adjacent ranges combine into one, which is still a single range.
  assert.deepEqual(decideRange(1000, 'bytes=0-9,10-19', undefined, strong), { kind: 'partial', start: 0, end: 19 });
});

test('If-Range: strong ETag equal → range; other ETag, weak ETag or a different date → full body', () => {
  assert.deepEqual(decideRange(1000, 'bytes=0-9', '"abc-1"', strong), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(decideRange(1000, 'bytes=0-9', '"other"', strong), { kind: 'full' });
  assert.equal(ifRangeMatches(weak.etag!, weak), false, 'weak ETags never match If-Range (strong comparison)');
  assert.equal(ifRangeMatches(strong.lastModified, strong), true);
  assert.equal(ifRangeMatches('Fri, 02 Jan 2026 03:04:06 GMT', strong), false);
  assert.equal(ifRangeMatches('not a date', strong), false);
  assert.equal(ifRangeMatches(strong.lastModified, {}), false);
});

test('conditional GET: If-None-Match and If-Modified-Since', () => {
  assert.equal(isNotModified({}, strong), false);
  assert.equal(isNotModified({ 'if-none-match': '"abc-1"' }, strong), true);
  assert.equal(isNotModified({ 'if-none-match': 'W/"abc-1"' }, strong), true, 'If-None-Match uses weak comparison');
  assert.equal(isNotModified({ 'if-none-match': '"nope"' }, strong), false);
  assert.equal(isNotModified({ 'if-none-match': '*' }, strong), true);
  assert.equal(isNotModified({ 'if-modified-since': strong.lastModified }, strong), true);
  assert.equal(isNotModified({ 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, strong), false);
  // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
  assert.equal(isNotModified({ 'if-none-match': '"nope"', 'if-modified-since': strong.lastModified }, strong), false);
  assert.equal(isNotModified({ 'if-none-match': '"abc-1"', 'cache-control': 'no-cache' }, strong), false);
  assert.equal(isNotModified({ 'if-modified-since': strong.lastModified }, {}), false);
});

test('Content-Range values', () => {
  assert.equal(contentRange(1000, { start: 0, end: 99 }), 'bytes 0-99/1000');
  assert.equal(contentRange(1000), 'bytes */1000');
});
