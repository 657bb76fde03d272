import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  TftpDecodeError,
  type TftpPacket,
} from '../../../core/tftp/codec.js';
import { loadFixture } from '../../helpers/fixtures.js';

const fixture = (name: string) => loadFixture(`tftp/${name}`);

function reasonOf(buf: Buffer): string {
  try {
    decodePacket(buf);
  } catch (err) {
    assert.ok(err instanceof TftpDecodeError, `expected TftpDecodeError, got ${String(err)}`);
    return err.reason;
  }
  assert.fail('decoded without error');
}

function asRequest(p: TftpPacket) {
  assert.ok(p.op === 'rrq' || p.op === 'wrq');
  return p;
}

test('RRQ round trip keeps filename, mode and option order', () => {
  const buf = encodeRequest('rrq', 'pxelinux.cfg/default', 'octet', [
    ['tsize', '0'],
    ['blksize', '1468'],
    ['windowsize', '4'],
  ]);
  const p = asRequest(decodePacket(buf));
  assert.equal(p.op, 'rrq');
  assert.equal(p.filename, 'pxelinux.cfg/default');
  assert.equal(p.mode, 'octet');
  assert.deepEqual(
    [...p.options.values],
    [
      ['tsize', '0'],
      ['blksize', '1468'],
      ['windowsize', '4'],
    ],
  );
  assert.deepEqual(encodeRequest(p.op, p.filename, p.mode, p.options.values), buf);
});

test('WRQ, DATA, ACK, ERROR and OACK round trips', () => {
  assert.deepEqual(decodePacket(encodeRequest('wrq', 'up', 'netascii')), {
    op: 'wrq',
    filename: 'up',
    mode: 'netascii',
    options: { values: new Map(), duplicates: [] },
  });
  const data = Buffer.from('hello');
  const d = decodePacket(encodeData(70000, data));
  assert.equal(d.op, 'data');
  assert.equal(d.op === 'data' && d.block, 70000 & 0xffff);
  assert.deepEqual(d.op === 'data' && d.data, data);
  assert.deepEqual(decodePacket(encodeData(3, Buffer.alloc(0))), { op: 'data', block: 3, data: Buffer.alloc(0) });
  assert.deepEqual(decodePacket(encodeAck(65535)), { op: 'ack', block: 65535 });
  assert.deepEqual(decodePacket(encodeError(8, 'User aborted the transfer')), {
    op: 'error',
    code: 8,
    message: 'User aborted the transfer',
  });
  const o = decodePacket(
    encodeOack([
      ['blksize', '1468'],
      ['tsize', '850528'],
    ]),
  );
  assert.equal(o.op, 'oack');
  assert.deepEqual(o.op === 'oack' && [...o.options.values], [
    ['blksize', '1468'],
    ['tsize', '850528'],
  ]);
});

test('options: names case-insensitive, duplicates keep the first value, trailing NUL padding ignored', () => {
  const buf = Buffer.concat([
    encodeRequest('rrq', 'f', 'OCTET', [
      ['BlkSize', '1024'],
      ['blksize', '512'],
      ['TSIZE', '0'],
    ]),
    Buffer.alloc(3), // padding some stacks add
  ]);
  const p = asRequest(decodePacket(buf));
  assert.equal(p.mode, 'octet');
  assert.equal(p.options.values.get('blksize'), '1024');
  assert.equal(p.options.values.get('tsize'), '0');
  assert.deepEqual(p.options.duplicates, ['blksize']);
});

test('malformed packets fail with a reason, never another exception', () => {
  assert.equal(reasonOf(Buffer.from([0])), 'too-short');
  assert.equal(reasonOf(Buffer.from([0, 9, 1, 2])), 'unknown-opcode');
  assert.equal(reasonOf(Buffer.from([0, 0])), 'unknown-opcode');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001file')), 'missing-nul');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001file\u0000octet')), 'missing-nul');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001file\u0000')), 'missing-nul');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001\u0000octet\u0000')), 'empty-filename');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001f\u0000\u0000')), 'empty-mode');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001f\u0000octet\u0000blksize\u0000')), 'option-without-value');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001f\u0000octet\u0000blksize\u00001468')), 'missing-nul');
  assert.equal(reasonOf(Buffer.from('\u0000\u0001f\u0000octet\u0000\u00001\u0000')), 'empty-option-name');
  assert.equal(reasonOf(Buffer.from([0, 3, 0])), 'too-short');
  assert.equal(reasonOf(Buffer.from([0, 4, 0])), 'too-short');
  assert.equal(reasonOf(Buffer.from([0, 5, 0])), 'too-short');
  assert.equal(reasonOf(Buffer.from('\u0000\u0006blksize')), 'missing-nul');
});

test('ERROR without a NUL after the message still yields the code (EDK2 probe abort must not be lost)', () => {
  const p = decodePacket(Buffer.from('\u0000\u0005\u0000\u0008User aborted'));
  assert.deepEqual(p, { op: 'error', code: 8, message: 'User aborted' });
});

test('64 KiB of garbage: decode either succeeds or throws TftpDecodeError', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 200; i++) {
    const len = i === 0 ? 65536 : rnd() * 4;
    const buf = Buffer.alloc(len);
    for (let j = 0; j < len; j++) buf[j] = rnd();
    if (len >= 2 && i % 3 === 0) buf.writeUInt16BE(1 + (i % 6), 0); // exercise every opcode parser
    try {
      decodePacket(buf);
    } catch (err) {
      assert.ok(err instanceof TftpDecodeError, String(err));
    }
  }
});

test('real client captures decode as documented', () => {
  const probe = asRequest(decodePacket(fixture('edk2-01-rrq-tsize-probe.hex')));
  assert.equal(probe.filename, 'ipxe.efi');
  assert.deepEqual(Object.fromEntries(probe.options.values), { tsize: '0', blksize: '1468', windowsize: '4' });
  assert.deepEqual(decodePacket(fixture('edk2-03-error8-abort.hex')), {
    op: 'error',
    code: 8,
    message: 'User aborted the transfer',
  });
  const curl = asRequest(decodePacket(fixture('curl-rrq.hex')));
  assert.deepEqual(Object.fromEntries(curl.options.values), { tsize: '0', blksize: '1468', timeout: '6' });
  assert.equal(asRequest(decodePacket(fixture('tftp-hpa-rrq.hex'))).options.values.size, 0);
  assert.deepEqual(decodePacket(fixture('edk2-10-ack-last.hex')), { op: 'ack', block: 580 });
  const last = decodePacket(fixture('edk2-09-data-last.hex'));
  assert.ok(last.op === 'data' && last.block === 580 && last.data.length === 556);
  // Re-encoding dnsmasq's OACK from its decoded form gives the same bytes.
  const oack = decodePacket(fixture('edk2-02-oack.hex'));
  assert.ok(oack.op === 'oack');
  assert.deepEqual(encodeOack(oack.options.values), fixture('edk2-02-oack.hex'));
  for (const f of ['ipxe-bios-rrq.hex', 'atftp-rrq-blksize-windowsize.hex', 'arm64-edk2-rrq.hex']) {
    const p = asRequest(decodePacket(fixture(f)));
    assert.deepEqual(encodeRequest(p.op, p.filename, p.mode, p.options.values), fixture(f));
  }
});
