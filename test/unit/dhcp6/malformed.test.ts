/**
 * Malformed DHCPv6 input ends in a Dhcp6DecodeError with a stable reason (never another exception),
 * typed options of RFC 5970 / RFC 6939 round-trip, and bad values to encode are refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Dhcp6DecodeError,
  Dhcp6EncodeError,
  decode,
  encode,
  macFromLinkLocal,
  parseDuid,
  type Dhcp6Packet,
} from '../../../core/dhcp6/codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function reasonOf(buf: Buffer): string {
  try {
    decode(buf);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof Dhcp6DecodeError, `not a Dhcp6DecodeError: ${String(e)}`);
    return e.reason;
  }
}

test('malformed messages: each gives its reason', () => {
  const cases: [string, Buffer, string][] = [
    ['empty', Buffer.alloc(0), 'truncated-header'],
    ['3 bytes', hex('010203'), 'truncated-header'],
    ['relay header cut', hex('0c00' + 'fd77'.padEnd(40, '0')), 'truncated-header'],
    ['option header cut', hex('01123456 0001 00'), 'option-overrun'],
    ['option value past end', hex('01123456 0001 0010 0001'), 'option-overrun'],
    ['DUID of 1 byte', hex('01123456 0001 0001 00'), 'bad-option-value'],
    ['elapsed time of 3 bytes', hex('01123456 0008 0003 000000'), 'bad-option-value'],
    ['odd ORO', hex('01123456 0006 0003 001700'), 'bad-option-value'],
    ['IA_NA shorter than 12', hex('01123456 0003 0004 00000001'), 'bad-option-value'],
    [
      'IAADDR inside IA_NA overruns',
      hex('01123456 0003 0014 000000010000000000000000 0005 0018 0000'),
      'option-overrun',
    ],
    ['rapid commit with a value', hex('01123456 000e 0001 00'), 'bad-option-value'],
    ['vendor class item past end', hex('01123456 0010 0008 00000157 0009 4142'), 'bad-option-value'],
    ['empty option 61', hex('01123456 003d 0000'), 'bad-option-value'],
    ['NII of 2 bytes', hex('01123456 003e 0002 0103'), 'bad-option-value'],
    ['option 79 without address', hex('0c00' + '00'.repeat(32) + '004f 0002 0001'), 'bad-option-value'],
    ['compressed domain name', hex('07123456 0018 0002 c00c'), 'bad-option-value'],
    ['domain without root label', hex('07123456 0018 0004 03616263'), 'bad-option-value'],
    ['relay-msg holding 2 bytes', hex('0c00' + '00'.repeat(32) + '0009 0002 0101'), 'truncated-header'],
    ['too large', Buffer.alloc(65528, 0), 'too-large'],
  ];
  for (const [name, buf, want] of cases) assert.equal(reasonOf(buf), want, name);
});

test('relays nested deeper than the hop limit are refused, not recursed without bound', () => {
  let inner = hex('01123456');
  for (let i = 0; i < 40; i++) {
    const head = Buffer.concat([Buffer.from([12, 0]), Buffer.alloc(32)]);
    const opt = Buffer.alloc(4);
    opt.writeUInt16BE(9, 0);
    opt.writeUInt16BE(inner.length, 2);
    inner = Buffer.concat([head, opt, inner]);
  }
  assert.equal(reasonOf(inner), 'relay-too-deep');
});

test('every truncation and byte flip of the real captures decodes or fails with a reason', () => {
  const dir = fileURLToPath(new URL('../../fixtures/dhcp6/', import.meta.url));
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.hex'))) {
    const buf = Buffer.from(readFileSync(dir + f, 'utf8').trim(), 'hex');
    for (let len = 0; len < buf.length; len++) reasonOf(buf.subarray(0, len));
    for (let k = 0; k < 200; k++) {
      const m = Buffer.from(buf);
      m[rand(m.length)] = rand(256);
      const r = reasonOf(m);
      if (r === 'ok') assert.deepEqual(decode(encode(decode(m))), decode(m), `${f}: mutated round trip`);
    }
  }
});

test('RFC 5970 and RFC 6939 options and a relay with Interface-ID round-trip', () => {
  const solicit: Dhcp6Packet = {
    kind: 'message',
    msgType: 1,
    transactionId: 0xabcdef,
    options: [
      { kind: 'client-id', duid: hex('0003 0001 525400112233') },
      { kind: 'ia-na', iaid: 1, t1: 0xffffffff, t2: 0xffffffff, options: [] },
      { kind: 'oro', codes: [59, 60, 23, 16] },
      { kind: 'nii', type: 1, major: 3, minor: 0 },
      { kind: 'client-arch-type', types: [7] },
      { kind: 'vendor-class', enterprise: 343, data: [Buffer.from('PXEClient:Arch:00007:UNDI:003000')] },
      { kind: 'user-class', classes: [Buffer.from('iPXE')] },
      { kind: 'rapid-commit' },
      { kind: 'raw', code: 999, data: hex('0102') },
    ],
  };
  const reply: Dhcp6Packet = {
    kind: 'message',
    msgType: 7,
    transactionId: 0xabcdef,
    options: [
      { kind: 'bootfile-url', url: 'tftp://[fd77::1]/ipxe.efi' },
      { kind: 'bootfile-param', params: ['console=ttyS0', 'quiet'] },
      { kind: 'dns-servers', addresses: ['fd77::1', 'fd77::2'] },
      { kind: 'domain-list', domains: ['lab.example', 'example'] },
      { kind: 'preference', value: 255 },
      { kind: 'vendor-opts', enterprise: 343, options: [{ code: 1, data: hex('00') }] },
    ],
  };
  const relayed: Dhcp6Packet = {
    kind: 'relay',
    msgType: 12,
    hopCount: 1,
    linkAddress: 'fd77:0:0:1::3',
    peerAddress: 'fe80::5054:ff:fe11:2233',
    options: [
      { kind: 'interface-id', id: Buffer.from('eth0') },
      { kind: 'client-linklayer-addr', linkType: 1, address: hex('525400112233') },
      { kind: 'relay-msg', message: solicit },
    ],
  };
  for (const p of [solicit, reply, relayed]) assert.deepEqual(decode(encode(p)), p);
  assert.equal(encode(solicit).readUInt16BE(4), 1, 'options follow the 4-byte header');
  assert.deepEqual(parseDuid(hex('0003 0001 525400112233')), {
    type: 'll',
    hardwareType: 1,
    linkLayer: hex('525400112233'),
  });
  assert.equal(macFromLinkLocal(hex('fe80000000000000 505400fffe112233')), '52:54:00:11:22:33');
});

test('encode refuses bad fields and values by name', () => {
  const bad = (p: Dhcp6Packet, re: RegExp): void =>
    assert.throws(
      () => encode(p),
      (e: unknown) => e instanceof Dhcp6EncodeError && re.test(e.message),
    );
  bad({ kind: 'message', msgType: 1, transactionId: 1 << 24, options: [] }, /transaction id/);
  bad({ kind: 'message', msgType: 12, transactionId: 1, options: [] }, /relay form/);
  bad({ kind: 'relay', msgType: 12, hopCount: 0, linkAddress: 'nope', peerAddress: '::', options: [] }, /link-address/);
  bad({ kind: 'message', msgType: 7, transactionId: 1, options: [{ kind: 'preference', value: 256 }] }, /preference/);
  bad(
    { kind: 'message', msgType: 7, transactionId: 1, options: [{ kind: 'dns-servers', addresses: ['10.0.0.1'] }] },
    /DNS server/,
  );
});
