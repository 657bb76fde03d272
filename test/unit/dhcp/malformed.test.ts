/** Malformed packets derived from real captures: each must throw DecodeError with the right reason. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../core/dhcp/codec.js';
import { DecodeError } from '../../../core/dhcp/decode-error.js';
import type { DecodeReason } from '../../../core/dhcp/decode-error.js';
import { loadFixture } from '../../helpers/fixtures.js';

function rejects(buf: Buffer, reason: DecodeReason, what: string): void {
  assert.throws(
    () => decode(buf),
    (err: unknown) => err instanceof DecodeError && err.reason === reason && err.message.length > 0,
    `${what}: expected DecodeError '${reason}'`,
  );
}

/** A minimal valid request: header, cookie, then `options` bytes (which should end with 255). */
function withOptions(options: number[], extra = 0): Buffer {
  const buf = Buffer.alloc(240 + options.length + extra);
  buf[0] = 1;
  buf[1] = 1;
  buf[2] = 6;
  buf.writeUInt32BE(0x63825363, 236);
  Buffer.from(options).copy(buf, 240);
  return buf;
}

test('truncated headers', () => {
  const edk2 = loadFixture('uefi-edk2-discover');
  for (const n of [0, 1, 100, 235, 236, 239]) rejects(edk2.subarray(0, n), 'truncated-header', `${n} bytes`);
  assert.doesNotThrow(() => decode(edk2.subarray(0, 240)), 'header and cookie alone is a packet with no options');
});

test('bad magic cookie, and a BOOTP vend field without one', () => {
  const buf = Buffer.from(loadFixture('dhclient-discover'));
  buf[239] = buf[239]! ^ 1;
  rejects(buf, 'bad-magic', 'one bit flipped');
  rejects(Buffer.alloc(300), 'bad-magic', 'all zeros');
});

test('hlen over 16', () => {
  const buf = withOptions([255]);
  buf[2] = 17;
  rejects(buf, 'bad-hlen', 'hlen 17');
});

test('64 KiB of garbage, and oversized datagrams', () => {
  let x = 0x12345678;
  const garbage = Buffer.alloc(64 * 1024);
  for (let i = 0; i < garbage.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    garbage[i] = x & 0xff;
  }
  rejects(garbage, 'too-large', '65,536 bytes');
  rejects(garbage.subarray(0, 65507), 'bad-magic', 'largest UDP payload of garbage');
  // The same garbage after a valid header and cookie: it either parses or fails as an overrun, never hangs.
  const g = Buffer.from(garbage.subarray(0, 65507));
  g.writeUInt32BE(0x63825363, 236);
  g[240] = 1;
  g[241] = 255; // one long option, then the garbage continues as options
  try {
    decode(g);
  } catch (err) {
    assert.ok(err instanceof DecodeError, String(err));
  }
  const huge = withOptions(
    [43, 255, ...Array<number>(255).fill(7), 43, 255, ...Array<number>(255).fill(8), 255],
    65000,
  );
  rejects(huge, 'too-large', 'options padded past 65,507 bytes');
});

test('an option running past the end of the packet', () => {
  const edk2 = loadFixture('uefi-edk2-discover');
  // Cut inside the last option (60 is 32 bytes long, ending at 345; 346 is the end option).
  rejects(edk2.subarray(0, 340), 'option-overrun', 'value cut short');
  // A code byte as the last byte, with no length byte.
  rejects(withOptions([53]), 'option-overrun', 'code without length');
  // Length claims more than is there.
  rejects(withOptions([53, 1, 1, 60, 40, 65, 66, 255]), 'option-overrun', 'length 40 with 3 bytes left');
  // A long option in the original capture with its length byte inflated.
  const buf = Buffer.from(loadFixture('bios-ipxe-rom-discover'));
  buf[241] = 250; // option 53's length
  rejects(buf, 'option-overrun', 'inflated option 53 length');
});

test('zero-length options are legal and kept', () => {
  const p = decode(withOptions([53, 1, 1, 97, 0, 80, 0, 255]));
  assert.deepEqual(p.options.get(97), Buffer.alloc(0));
  assert.deepEqual(p.options.get(80), Buffer.alloc(0));
  assert.deepEqual([...p.options.keys()], [53, 97, 80]);
});

test('no end option: options run to the end of the packet and are kept', () => {
  const p = decode(withOptions([53, 1, 1, 61, 2, 1, 2]));
  assert.deepEqual(p.options.get(61), Buffer.from([1, 2]));
});

test('overload: option 52 inside the file or sname field it overloads is a loop', () => {
  const buf = withOptions([53, 1, 1, 52, 1, 3, 255]);
  buf.set([52, 1, 1, 255], 108); // file field says "file holds options" again
  rejects(buf, 'overload-loop', '52 inside file');
  const buf2 = withOptions([52, 1, 2, 255]);
  buf2.set([12, 2, 65, 66, 52, 1, 2, 255], 44); // sname points at itself
  rejects(buf2, 'overload-loop', '52 inside sname');
});

test('bad overload values and lengths', () => {
  for (const v of [0, 4, 255]) rejects(withOptions([52, 1, v, 255]), 'bad-overload', `value ${v}`);
  rejects(withOptions([52, 0, 255]), 'bad-overload', 'length 0');
  rejects(withOptions([52, 2, 1, 1, 255]), 'bad-overload', 'length 2');
  rejects(withOptions([52, 1, 1, 52, 1, 1, 255]), 'bad-overload', 'repeated 52');
});

test('an option in an overloaded field running past the field', () => {
  const buf = withOptions([52, 1, 1, 255]);
  buf.set([67, 10], 108 + 120); // 10 bytes claimed, 6 left in the 128-byte file field
  rejects(buf, 'option-overrun', 'file field overrun');
});

test('overloaded fields decode in RFC 3396 order: options, file, sname', () => {
  const buf = withOptions([53, 1, 1, 52, 1, 3, 43, 2, 0x61, 0x62, 255]);
  buf.set([43, 2, 0x63, 0x64, 66, 3, 0x74, 0x66, 0x74, 255], 108);
  buf.set([43, 1, 0x65, 255], 44);
  const p = decode(buf);
  assert.equal(p.file, '');
  assert.equal(p.sname, '');
  assert.deepEqual([...p.options.keys()], [53, 43, 66]);
  assert.equal(p.options.get(43)?.toString(), 'abcde');
  assert.equal(p.options.get(66)?.toString(), 'tft');
});
