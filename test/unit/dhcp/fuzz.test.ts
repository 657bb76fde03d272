/**
 * Seeded mutation fuzzing of the real captures: whatever the bytes, `decode` returns a packet or
 * throws DecodeError, `classify` never throws, and anything that decodes re-encodes and decodes again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../../core/dhcp/codec.js';
import { DecodeError } from '../../../core/dhcp/decode-error.js';
import { classify } from '../../../core/dhcp/pxe.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { fixtureFiles, loadFixture } from '../../helpers/fixtures.js';

const ITERATIONS = 2000;

/** xorshift32: deterministic, so a failure names a seed and iteration that reproduce it. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function mutate(src: Buffer, rnd: (n: number) => number): Buffer {
  let buf = Buffer.from(src);
  const edits = 1 + rnd(6);
  for (let e = 0; e < edits; e++) {
    const kind = rnd(7);
    // Mostly hit the options area and its length bytes, where the parsing logic is.
    const at = rnd(4) === 0 ? rnd(buf.length) : 240 + rnd(Math.max(1, buf.length - 240));
    if (kind === 0) buf[at] = rnd(256);
    else if (kind === 1) buf[at] = [0, 52, 255, 1, 2, 3][rnd(6)]!;
    else if (kind === 2) buf = buf.subarray(0, rnd(buf.length + 1));
    else if (kind === 3) buf = Buffer.concat([buf, Buffer.alloc(rnd(300), rnd(256))]);
    else if (kind === 4 && buf.length >= 3) buf.set([52, 1, 1 + rnd(3)], Math.min(at, buf.length - 3));
    else if (kind === 5 && buf.length > 236) buf.fill(rnd(256), 44 + rnd(192), 44 + rnd(192));
    else if (kind === 6) buf[at] = (buf[at] ?? 0) ^ (1 << rnd(8));
  }
  return buf;
}

test(`${ITERATIONS} seeded mutations of the captures only ever throw DecodeError`, () => {
  const corpus = fixtureFiles('dhcp').map((f) => loadFixture(f));
  const rnd = prng(0x5eed1234);
  const reasons = new Map<string, number>();
  let decoded = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(corpus[rnd(corpus.length)]!, rnd);
    let packet;
    try {
      packet = decode(input);
    } catch (err) {
      assert.ok(err instanceof DecodeError, `iteration ${i}: ${String(err)}`);
      reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
      continue;
    }
    decoded++;
    const c = classify(packet);
    assert.equal(typeof c.archName, 'string');
    try {
      getOption(packet, 53);
    } catch (err) {
      assert.ok(err instanceof DecodeError, `iteration ${i}: getOption threw ${String(err)}`);
    }
    // Re-encoding a decoded packet must work unless a mutated sname/file no longer fits its field.
    let out: Buffer;
    try {
      out = encode(packet);
    } catch (err) {
      assert.ok(String(err).includes('sname') || String(err).includes('file'), `iteration ${i}: ${String(err)}`);
      continue;
    }
    const again = decode(out);
    assert.deepEqual([...again.options.keys()], [...packet.options.keys()], `iteration ${i}: option order`);
  }
  if (process.env.FUZZ_STATS) console.log({ decoded, reasons });
  assert.ok(decoded > ITERATIONS / 10, `only ${decoded} mutations decoded`);
  assert.ok(reasons.size >= 3, `few distinct failures: ${[...reasons.keys()].join(', ')}`);
});
