/** Typed option values: a round trip for every option type and every code in the table, and strict decoding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../../core/dhcp/codec.js';
import { DecodeError, EncodeError } from '../../../core/dhcp/decode-error.js';
import { OPTION_CODES, OPTION_TABLE, optionName, optionType } from '../../../core/dhcp/options.js';
import type { OptionType, OptionValueTypes } from '../../../core/dhcp/options.js';
import { decodeOptionValue, encodeOptionValue, getOption, setOption } from '../../../core/dhcp/option-values.js';
import * as named from '../../../core/dhcp/option-accessors.js';
import { createPacket } from '../../../core/dhcp/packet.js';

/** A sample value per type, and its exact wire bytes. */
const SAMPLES: { [T in OptionType]: [OptionValueTypes[T], number[]] } = {
  ip: ['10.77.0.1', [10, 77, 0, 1]],
  ips: [
    ['10.0.0.1', '10.0.0.2'],
    [10, 0, 0, 1, 10, 0, 0, 2],
  ],
  ippairs: [[['10.0.0.0', '255.0.0.0']], [10, 0, 0, 0, 255, 0, 0, 0]],
  u8: [200, [200]],
  u16: [1500, [0x05, 0xdc]],
  u32: [0xffffffff, [255, 255, 255, 255]],
  i32: [-3600, [0xff, 0xff, 0xf1, 0xf0]],
  bool: [true, [1]],
  string: ['ipxe.efi', [...Buffer.from('ipxe.efi')]],
  bytes: [Buffer.from([0, 1, 255]), [0, 1, 255]],
  u8list: [
    [1, 3, 6, 67],
    [1, 3, 6, 67],
  ],
  u16list: [
    [7, 16],
    [0, 7, 0, 16],
  ],
  routes: [
    [
      { destination: '10.0.0.0/8', router: '10.77.0.1' },
      { destination: '0.0.0.0/0', router: '10.77.0.254' },
      { destination: '192.168.5.128/25', router: '10.77.0.1' },
    ],
    [8, 10, 10, 77, 0, 1, 0, 10, 77, 0, 254, 25, 192, 168, 5, 128, 10, 77, 0, 1],
  ],
  domains: [
    ['example.com', 'lab.example.com'],
    [
      7,
      ...Buffer.from('example'),
      3,
      ...Buffer.from('com'),
      0,
      3,
      ...Buffer.from('lab'),
      7,
      ...Buffer.from('example'),
      3,
      ...Buffer.from('com'),
      0,
    ],
  ],
  suboptions: [
    new Map([
      [1, Buffer.from('eth0')],
      [2, Buffer.from([1, 2])],
    ]),
    [1, 4, ...Buffer.from('eth0'), 2, 2, 1, 2],
  ],
};

test('every option type encodes to known bytes and decodes back', () => {
  for (const type of Object.keys(SAMPLES) as OptionType[]) {
    const [value, wire] = SAMPLES[type];
    const bytes = encodeOptionValue(type, value as never);
    assert.deepEqual([...bytes], wire, `${type} encode`);
    assert.deepEqual(decodeOptionValue(type, bytes), value, `${type} decode`);
  }
});

test('every code in the table round-trips through a full packet encode/decode', () => {
  const p = createPacket({ op: 2, xid: 0x1234 });
  const codes = Object.keys(OPTION_TABLE)
    .map(Number)
    .filter((c) => c !== 52);
  for (const code of codes) setOption(p, code, SAMPLES[optionType(code)][0] as never);
  const back = decode(encode(p));
  assert.deepEqual([...back.options.keys()], codes, 'order kept');
  for (const code of codes)
    assert.deepEqual(getOption(back, code), SAMPLES[optionType(code)][0], `option ${code} ${optionName(code)}`);
});

test('the table: unique names, name → code map, unknown codes are bytes', () => {
  const names = Object.values(OPTION_TABLE).map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  assert.equal(OPTION_CODES.bootFileName, 67);
  assert.equal(OPTION_CODES.clientSystemArchitecture, 93);
  for (const code of [
    43, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 66, 67, 77, 82, 93, 94, 97, 119, 121, 150, 175, 209, 210, 211,
  ]) {
    assert.ok(code in OPTION_TABLE, `option ${code} in the table`);
  }
  for (let code = 1; code <= 76; code++) assert.ok(code in OPTION_TABLE, `RFC 2132 option ${code}`);
  assert.equal(optionType(224), 'bytes');
  assert.equal(optionName(224), 'option224');
  const p = createPacket();
  setOption(p, 224, Buffer.from([9, 9]));
  assert.deepEqual(getOption(p, 224), Buffer.from([9, 9]));
});

test('strings: trailing NULs dropped on decode (dnsmasq option 67), not added on encode', () => {
  assert.equal(decodeOptionValue('string', Buffer.from('ipxe.efi\0')), 'ipxe.efi');
  assert.equal(decodeOptionValue('string', Buffer.alloc(0)), '');
});

test('wrong lengths throw DecodeError bad-option-value', () => {
  const bad: [OptionType, number[]][] = [
    ['ip', [1, 2, 3]],
    ['ips', [1, 2, 3, 4, 5]],
    ['ippairs', [1, 2, 3, 4]],
    ['u8', []],
    ['u16', [1]],
    ['u32', [1, 2, 3]],
    ['i32', [1, 2, 3, 4, 5]],
    ['bool', [1, 1]],
    ['u16list', [1, 2, 3]],
    ['routes', [33, 1, 2, 3, 4, 5, 6, 7, 8]],
    ['routes', [24, 10, 0]],
    ['domains', [3, 97, 98]],
    ['domains', [0xc0, 0]],
    ['domains', [1, 97, 0xc0, 0]],
    ['suboptions', [1, 5, 1]],
  ];
  for (const [type, bytes] of bad) {
    assert.throws(
      () => decodeOptionValue(type, Buffer.from(bytes), 51),
      (e: unknown) => e instanceof DecodeError && e.reason === 'bad-option-value',
      `${type} ${JSON.stringify(bytes)}`,
    );
  }
});

test('domain search with compression pointers (RFC 3397 example)', () => {
  const wire = Buffer.from([
    3,
    ...Buffer.from('eng'),
    5,
    ...Buffer.from('apple'),
    3,
    ...Buffer.from('com'),
    0,
    3,
    ...Buffer.from('foo'),
    0xc0,
    4,
  ]);
  assert.deepEqual(decodeOptionValue('domains', wire), ['eng.apple.com', 'foo.apple.com']);
});

test('bad typed values throw EncodeError bad-option-value', () => {
  const p = createPacket();
  const cases: [number, unknown][] = [
    [54, '10.0.0.256'],
    [54, 'host.example'],
    [53, 256],
    [57, -1],
    [51, 1.5],
    [19, 1],
    [3, '10.0.0.1'],
    [121, [{ destination: '10.0.0.0', router: '10.0.0.1' }]],
    [119, ['a..b']],
    [82, new Map([[1, Buffer.alloc(256)]])],
    [0, Buffer.alloc(1)],
    [255, Buffer.alloc(1)],
  ];
  for (const [code, value] of cases) {
    assert.throws(
      () => setOption(p, code, value as never),
      (e: unknown) => e instanceof EncodeError && e.reason === 'bad-option-value',
      `option ${code} ${String(value)}`,
    );
  }
});

test('named accessors', () => {
  const p = createPacket({ op: 1 });
  assert.equal(named.messageType(p), undefined);
  setOption(p, 53, 3);
  setOption(p, 50, '10.77.0.5');
  setOption(p, 54, '10.77.0.1');
  setOption(p, 55, [1, 3, 67]);
  setOption(p, 57, 1472);
  setOption(p, 61, Buffer.from([1, 0x52, 0x54, 0, 0, 0, 1]));
  setOption(p, 12, 'node1');
  setOption(p, 51, 3600);
  setOption(p, 60, 'PXEClient');
  setOption(p, 67, 'ipxe.efi');
  setOption(p, 1, '255.255.255.0');
  setOption(p, 3, ['10.77.0.254']);
  setOption(p, 6, ['10.77.0.53', '10.77.0.54']);
  assert.equal(named.messageType(p), 3);
  assert.equal(named.requestedIp(p), '10.77.0.5');
  assert.equal(named.serverId(p), '10.77.0.1');
  assert.deepEqual(named.paramRequestList(p), [1, 3, 67]);
  assert.equal(named.maxMessageSize(p), 1472);
  assert.deepEqual(named.clientId(p), Buffer.from([1, 0x52, 0x54, 0, 0, 0, 1]));
  assert.equal(named.hostname(p), 'node1');
  assert.equal(named.leaseTime(p), 3600);
  assert.equal(named.vendorClassId(p), 'PXEClient');
  assert.equal(named.bootFileName(p), 'ipxe.efi');
  assert.equal(named.subnetMask(p), '255.255.255.0');
  assert.deepEqual(named.routers(p), ['10.77.0.254']);
  assert.deepEqual(named.dnsServers(p), ['10.77.0.53', '10.77.0.54']);
  assert.equal(named.requestsOption(p, 67), true);
  assert.equal(named.requestsOption(p, 66), false);
  p.options.set(53, Buffer.from([1, 2]));
  assert.throws(() => named.messageType(p), DecodeError);
});

test('getOption typing: literal codes get the table type, a plain number gets the union', () => {
  const p = createPacket();
  setOption(p, 51, 60);
  const lease: number | undefined = getOption(p, 51);
  const code: number = 51;
  const any = getOption(p, code);
  assert.equal(lease, 60);
  assert.equal(any, 60, 'decoded per the table even when the code is not a literal');
});
