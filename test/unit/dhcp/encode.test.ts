/** encode/encodingLength: padding, RFC 3396 long options, overload under maxSize, field checks, replies, option 43. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, encodingLength, replySizeLimit } from '../../../core/dhcp/codec.js';
import { EncodeError } from '../../../core/dhcp/decode-error.js';
import { getOption, setOption } from '../../../core/dhcp/option-values.js';
import { DHCPACK, DHCPNAK, DHCPOFFER, createPacket } from '../../../core/dhcp/packet.js';
import { createReply, echoRelayAgentInfo, replyDestination } from '../../../core/dhcp/reply.js';
import { buildPxeVendorOptions, parsePxeVendorOptions } from '../../../core/dhcp/pxe-vendor.js';
import { loadFixture } from '../../helpers/fixtures.js';

test('pads to 300 bytes (BOOTP minimum) and ends options with 255', () => {
  const p = createPacket({ xid: 1 });
  setOption(p, 53, DHCPOFFER);
  const out = encode(p);
  assert.equal(out.length, 300);
  assert.equal(encodingLength(p), 300);
  assert.deepEqual([...out.subarray(240, 244)], [53, 1, 2, 255]);
  assert.equal(encode(p, { minSize: 0 }).length, 244);
});

test('values over 255 bytes are split into repeated options and joined on decode (RFC 3396)', () => {
  const p = createPacket();
  const big = Buffer.alloc(600, 7);
  big[0] = 1;
  big[599] = 2;
  p.options.set(43, big);
  p.options.set(53, Buffer.from([5]));
  const out = encode(p);
  assert.equal(out.length, 240 + (255 + 2) * 2 + (90 + 2) + 3 + 1);
  assert.equal(encodingLength(p), out.length);
  assert.deepEqual(
    [out[240], out[241], out[240 + 257], out[241 + 257], out[240 + 514], out[241 + 514]],
    [43, 255, 43, 255, 43, 90],
  );
  const back = decode(out);
  assert.deepEqual(back.options.get(43), big);
  assert.deepEqual([...back.options.keys()], [43, 53]);
});

test('maxSize: options overflow into file then sname with option 52, and decode back', () => {
  const p = createPacket({ xid: 9 });
  setOption(p, 53, DHCPACK);
  setOption(p, 54, '10.77.0.1');
  for (let code = 224; code < 230; code++) p.options.set(code, Buffer.alloc(60, code));
  const plain = encodingLength(p);
  assert.ok(plain > 548);
  const out = encode(p, { maxSize: 548 });
  assert.ok(out.length <= 548);
  assert.equal(encodingLength(p, { maxSize: 548 }), out.length);
  assert.deepEqual([...out.subarray(240, 243)], [52, 1, 1], 'file overloaded only');
  const back = decode(out);
  assert.equal(back.file, '');
  assert.deepEqual([...back.options.keys()], [...p.options.keys()]);
  for (const [code, value] of p.options) assert.deepEqual(back.options.get(code), value, `option ${code}`);

  // Smaller still: both fields are needed.
  const tight = encode(p, { maxSize: 450 });
  assert.ok(tight.length <= 450);
  assert.equal(tight[242], 3);
  const back2 = decode(tight);
  for (const [code, value] of p.options) assert.deepEqual(back2.options.get(code), value, `option ${code}`);
});

test('maxSize: a boot file in `file` keeps its field; too many options is a clear EncodeError', () => {
  const p = createPacket({ file: 'ipxe.efi' });
  for (let code = 224; code < 229; code++) p.options.set(code, Buffer.alloc(60, code));
  const out = encode(p, { maxSize: 548 });
  const back = decode(out);
  assert.equal(back.file, 'ipxe.efi');
  assert.equal(out[242], 2, 'only sname overloaded');
  p.sname = 'pxekit';
  assert.throws(
    () => encode(p, { maxSize: 548 }),
    (e: unknown) => e instanceof EncodeError && e.reason === 'too-large' && /maxSize 548/.test(e.message),
  );
  assert.throws(() => encodingLength(p, { maxSize: 548 }), EncodeError);
});

test('bad fixed fields throw EncodeError bad-field', () => {
  const cases: Partial<Parameters<typeof createPacket>[0]>[] = [
    { ciaddr: '1.2.3' },
    { yiaddr: '300.1.1.1' },
    { xid: -1 },
    { xid: 2 ** 32 },
    { flags: 0x10000 },
    { op: 256 },
    { sname: 'x'.repeat(64) },
    { file: 'y'.repeat(128) },
  ];
  for (const fields of cases) {
    assert.throws(
      () => encode(createPacket(fields)),
      (e: unknown) => e instanceof EncodeError && e.reason === 'bad-field',
      JSON.stringify(fields),
    );
  }
  assert.equal(decode(encode(createPacket({ file: 'y'.repeat(127) }))).file.length, 127);
});

test('replySizeLimit follows option 57 minus IP/UDP headers, at least 576', () => {
  const p = createPacket({ op: 1 });
  assert.equal(replySizeLimit(p), 548);
  setOption(p, 57, 1500);
  assert.equal(replySizeLimit(p), 1472);
  setOption(p, 57, 300);
  assert.equal(replySizeLimit(p), 548);
});

test('createReply copies table-3 fields, echoes 61 and 97; 82 goes last', () => {
  const req = decode(loadFixture('uefi-edk2-request'));
  const ack = createReply(req, DHCPACK, '10.77.0.1');
  assert.equal(ack.op, 2);
  assert.equal(ack.xid, req.xid);
  assert.equal(ack.flags, 0x8000);
  assert.equal(ack.mac, req.mac);
  assert.deepEqual(ack.chaddr, req.chaddr);
  ack.chaddr[15] = 0xee;
  assert.equal(req.chaddr[15], 0, 'chaddr is a copy, not a view of the request');
  assert.deepEqual([...ack.options.keys()], [53, 54, 97]);
  assert.deepEqual(ack.options.get(97), req.options.get(97));
  const ipxe = decode(loadFixture('uefi-ipxe-efi-discover'));
  const offer = createReply(ipxe, DHCPOFFER, '10.77.0.1');
  assert.deepEqual([...offer.options.keys()], [53, 54, 61, 97]);
  assert.deepEqual(
    [...createReply(ipxe, DHCPOFFER, '10.77.0.1', { echoClientId: false }).options.keys()],
    [53, 54, 97],
  );
  // Relayed request: option 82 is echoed as the last option, NAK gets the broadcast bit.
  ipxe.giaddr = '10.78.0.2';
  ipxe.options.set(82, Buffer.from([1, 1, 9]));
  const nak = createReply(ipxe, DHCPNAK, '10.77.0.1');
  assert.equal(nak.flags & 0x8000, 0x8000);
  setOption(offer, 67, 'http://10.77.0.1/boot.ipxe');
  echoRelayAgentInfo(offer, ipxe);
  assert.equal([...offer.options.keys()].at(-1), 82);
  assert.equal(getOption(decode(encode(offer)), 67), 'http://10.77.0.1/boot.ipxe');
});

test('replyDestination follows RFC 2131 §4.1', () => {
  const req = createPacket({ op: 1 });
  const reply = createPacket({ yiaddr: '10.77.0.9' });
  setOption(reply, 53, DHCPOFFER);
  assert.deepEqual(replyDestination(req, reply), { address: '10.77.0.9', port: 68, broadcast: false, rule: 'yiaddr' });
  req.flags = 0x8000;
  assert.equal(replyDestination(req, reply).rule, 'broadcast');
  req.flags = 0;
  req.ciaddr = '10.77.0.9';
  assert.deepEqual(replyDestination(req, reply), { address: '10.77.0.9', port: 68, broadcast: false, rule: 'ciaddr' });
  setOption(reply, 53, DHCPNAK);
  assert.equal(replyDestination(req, reply).rule, 'broadcast', 'NAK is broadcast');
  req.giaddr = '10.78.0.2';
  assert.deepEqual(replyDestination(req, reply), { address: '10.78.0.2', port: 67, broadcast: false, rule: 'relay' });
});

test('PXE option 43: build discovery control/boot servers/menu/prompt, parse the ROM boot-item request', () => {
  assert.deepEqual([...buildPxeVendorOptions({ discoveryControl: 8 })], [6, 1, 8, 255]);
  const full = buildPxeVendorOptions({
    discoveryControl: 7,
    bootServers: [{ type: 0x8000, addresses: ['10.99.0.1'] }],
    menu: [{ type: 0x8000, description: 'pxekit' }],
    prompt: { timeout: 0, text: 'PXE' },
  });
  const parsed = parsePxeVendorOptions(full);
  assert.equal(parsed?.discoveryControl, 7);
  assert.deepEqual(parsed?.bootServers, [{ type: 0x8000, addresses: ['10.99.0.1'] }]);
  assert.deepEqual(parsed?.menu, [{ type: 0x8000, description: 'pxekit' }]);
  assert.deepEqual(parsed?.prompt, { timeout: 0, text: 'PXE' });
  // dnsmasq's proxy offer to the BIOS ROM has a menu; the ROM asks for its item as 43.71 (type, layer 0).
  const dnsmasq = decode(loadFixture('dnsmasq-proxy-offer-bios-ipxe'));
  const type = parsePxeVendorOptions(dnsmasq.options.get(43)!)?.menu?.[0]?.type;
  assert.ok(type !== undefined && type >= 0x8000);
  const item = [0x47, 4, type >> 8, type & 0xff, 0, 0, 0xff];
  const rom = decode(loadFixture('bios-ipxe-rom-request-4011'));
  assert.deepEqual([...rom.options.get(43)!], item);
  assert.deepEqual(parsePxeVendorOptions(rom.options.get(43)!)?.bootItem, { type, layer: 0 });
  assert.deepEqual([...buildPxeVendorOptions({ bootItem: { type, layer: 0 } })], item);
  assert.equal(parsePxeVendorOptions(Buffer.from([6, 5, 1])), undefined);
  assert.throws(() => buildPxeVendorOptions({ discoveryControl: 256 }), EncodeError);
});
