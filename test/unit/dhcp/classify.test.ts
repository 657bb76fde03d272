/** PXE classification of the real captures, and of hand-made edge cases (option 77 forms, 97 lengths, relays). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../core/dhcp/codec.js';
import { classify, encodeUserClass, parseUserClass } from '../../../core/dhcp/pxe.js';
import { archInfo, MAX_KNOWN_ARCH } from '../../../core/dhcp/pxe-arch.js';
import { createPacket } from '../../../core/dhcp/packet.js';
import { parsePxeVendorOptions } from '../../../core/dhcp/pxe-vendor.js';
import { loadFixture } from '../../helpers/fixtures.js';

const cls = (name: string) => classify(decode(loadFixture(name)));

test('BIOS iPXE ROM: arch 0 BIOS, but already iPXE (raw user class and option 175)', () => {
  const c = cls('bios-ipxe-rom-discover');
  assert.equal(c.mac, '52:54:00:77:b1:05');
  assert.equal(c.arch, 0);
  assert.deepEqual(c.archs, [0]);
  assert.equal(c.archName, 'bios-x86');
  assert.equal(c.firmware, 'bios');
  assert.equal(c.cpu, 'x86');
  assert.equal(c.httpBoot, false);
  assert.equal(c.vendorClass, 'PXEClient:Arch:00000:UNDI:002001');
  assert.equal(c.isPxeClient, true);
  assert.equal(c.isHttpClient, false);
  assert.deepEqual(c.userClass, ['iPXE']);
  assert.equal(c.isIpxe, true);
  assert.ok(c.ipxe.size > 0, 'option 175 sub-options decoded');
  assert.deepEqual(c.ipxe.get(177), Buffer.from('018086100e', 'hex'), 'bus id: PCI 8086:100e (e1000)');
  assert.deepEqual(c.nii, { type: 1, major: 2, minor: 1 });
  assert.equal(c.hasGuidOption, true);
  assert.equal(c.guid, '00000000-0000-0000-0000-000000000000');
  assert.equal(c.relay, undefined);
  assert.deepEqual(c.labels, {});
});

test('EDK2 x64 PXE: arch 7 → x64 UEFI, not iPXE, GUID kept raw for echo', () => {
  const c = cls('uefi-edk2-discover');
  assert.equal(c.arch, 7);
  assert.equal(c.archName, 'x64-uefi');
  assert.equal(c.firmware, 'uefi');
  assert.equal(c.cpu, 'x64');
  assert.equal(c.isPxeClient, true);
  assert.equal(c.isIpxe, false);
  assert.deepEqual(c.userClass, []);
  assert.equal(c.ipxe.size, 0);
  assert.deepEqual(c.nii, { type: 1, major: 3, minor: 0 });
  assert.equal(c.guidRaw?.length, 17);
});

test('ipxe.efi chained from EDK2: x64 UEFI and iPXE', () => {
  const c = cls('uefi-ipxe-efi-discover');
  assert.equal(c.archName, 'x64-uefi');
  assert.equal(c.isIpxe, true);
  assert.deepEqual(c.userClass, ['iPXE']);
  assert.deepEqual(c.nii, { type: 1, major: 3, minor: 10 });
  assert.deepEqual(c.ipxe.get(177), Buffer.from('011af41000', 'hex'), 'bus id: virtio-net');
});

test('UEFI HTTP boot x64 (16) and arm64 (19): HTTPClient, uefi-http, URL wanted', () => {
  const x64 = cls('uefi-httpboot-discover');
  assert.equal(x64.arch, 16);
  assert.equal(x64.archName, 'x64-uefi-http');
  assert.equal(x64.firmware, 'uefi-http');
  assert.equal(x64.cpu, 'x64');
  assert.equal(x64.isHttpClient, true);
  assert.equal(x64.isPxeClient, false);
  assert.equal(x64.httpBoot, true);
  const arm = cls('arm64-httpboot-discover');
  assert.equal(arm.arch, 19);
  assert.equal(arm.archName, 'arm64-uefi-http');
  assert.equal(arm.firmware, 'uefi-http');
  assert.equal(arm.cpu, 'arm64');
  assert.equal(arm.isHttpClient, true);
});

test('arm64 EDK2 PXE: arch 11', () => {
  const c = cls('arm64-edk2-discover');
  assert.equal(c.arch, 11);
  assert.equal(c.archName, 'arm64-uefi');
  assert.equal(c.firmware, 'uefi');
  assert.equal(c.cpu, 'arm64');
  assert.equal(c.httpBoot, false);
  assert.equal(c.mac, '52:54:00:77:aa:64');
});

test('dhclient and udhcpc are not PXE clients', () => {
  const d = cls('dhclient-discover');
  assert.equal(d.arch, undefined);
  assert.equal(d.archName, 'unknown');
  assert.equal(d.firmware, 'unknown');
  assert.equal(d.vendorClass, undefined);
  assert.equal(d.isPxeClient, false);
  assert.equal(d.isIpxe, false);
  assert.equal(d.hasGuidOption, false);
  assert.equal(d.mac, '52:54:00:dc:00:01');
  const u = cls('udhcpc-discover');
  assert.equal(u.vendorClass, 'udhcp 1.35.0');
  assert.equal(u.isPxeClient, false);
  assert.equal(u.isHttpClient, false);
  assert.equal(u.firmware, 'unknown');
});

test('BIOS ROM boot-server request on 4011: option 43 asks for the menu item the proxy offered, layer 0', () => {
  const c = cls('bios-ipxe-rom-request-4011');
  assert.equal(c.vendorClass, 'PXEClient');
  const menu = parsePxeVendorOptions(decode(loadFixture('dnsmasq-proxy-offer-bios-ipxe')).options.get(43)!)?.menu;
  assert.ok(menu?.[0] && menu[0].type >= 0x8000, 'dnsmasq offered a vendor boot server type');
  assert.deepEqual(c.pxeBootItem, { type: menu[0].type, layer: 0 });
});

test('every IANA arch value 0..41 has a name; 7, 8, 9 are all x64 UEFI; 41 is rpiboot', () => {
  const names = new Set<string>();
  for (let v = 0; v <= MAX_KNOWN_ARCH; v++) {
    const info = archInfo(v);
    assert.notEqual(info.firmware, 'unknown', `arch ${v}`);
    assert.doesNotMatch(info.name, /^arch-/, `arch ${v}`);
    names.add(info.name);
  }
  assert.equal(MAX_KNOWN_ARCH, 41);
  for (const v of [7, 8, 9])
    assert.deepEqual(archInfo(v), { name: 'x64-uefi', firmware: 'uefi', cpu: 'x64', http: false });
  assert.equal(archInfo(6).name, 'x86-uefi');
  assert.equal(archInfo(10).name, 'arm32-uefi');
  assert.equal(archInfo(15).name, 'x86-uefi-http');
  assert.equal(archInfo(18).name, 'arm32-uefi-http');
  assert.equal(archInfo(27).cpu, 'riscv64');
  assert.equal(archInfo(41).name, 'rpiboot');
  assert.equal(archInfo(42).name, 'arch-42');
  assert.equal(archInfo(42).firmware, 'other');
  assert.ok(names.size >= 38);
});

test('option 93 with several values, and the option-60 fallback when 93 is missing', () => {
  const p = createPacket({ op: 1 });
  p.options.set(93, Buffer.from([0, 11, 0, 7]));
  assert.deepEqual(classify(p).archs, [11, 7]);
  assert.equal(classify(p).archName, 'arm64-uefi');
  const q = createPacket({ op: 1 });
  q.options.set(60, Buffer.from('PXEClient:Arch:00009:UNDI:003016'));
  assert.equal(classify(q).arch, 9);
  assert.equal(classify(q).archName, 'x64-uefi');
  q.options.set(93, Buffer.from([0])); // odd length: no whole value, fall back to 60
  assert.deepEqual(classify(q).archs, []);
  assert.equal(classify(q).arch, 9);
});

test('user class: raw iPXE, RFC 3004 lists, custom classes', () => {
  assert.deepEqual(parseUserClass(Buffer.from('iPXE')), ['iPXE']);
  assert.deepEqual(parseUserClass(encodeUserClass(['iPXE', 'pxekit'])), ['iPXE', 'pxekit']);
  assert.deepEqual(parseUserClass(Buffer.alloc(0)), []);
  const p = createPacket({ op: 1 });
  p.options.set(77, encodeUserClass(['iPXE']));
  assert.equal(classify(p).isIpxe, true);
  p.options.set(77, Buffer.from('gPXE'));
  assert.equal(classify(p).isIpxe, false);
  p.options.set(175, Buffer.from([0xb1, 0x01, 0x01]));
  assert.equal(classify(p).isIpxe, true, 'option 175 alone marks iPXE');
});

test('option 97 of length 0, 17 and a bad length; relay info from giaddr and option 82', () => {
  const p = createPacket({ op: 1, giaddr: '10.78.0.2', hops: 1 });
  p.options.set(97, Buffer.alloc(0));
  p.options.set(82, Buffer.from([1, 3, 0x65, 0x74, 0x68, 2, 2, 0xab, 0xcd]));
  let c = classify(p);
  assert.equal(c.hasGuidOption, true);
  assert.equal(c.guidRaw?.length, 0);
  assert.equal(c.guid, undefined);
  assert.equal(c.relay?.giaddr, '10.78.0.2');
  assert.equal(c.relay?.hops, 1);
  assert.deepEqual(c.relay?.agentInfo.get(1), Buffer.from('eth'));
  assert.deepEqual(c.relay?.agentInfo.get(2), Buffer.from([0xab, 0xcd]));
  const uuid = Buffer.from('00' + '0123456789abcdef0011223344556677', 'hex');
  p.options.set(97, uuid);
  c = classify(p);
  assert.equal(c.guid, '01234567-89ab-cdef-0011-223344556677');
  p.options.set(97, Buffer.alloc(5));
  c = classify(p);
  assert.equal(c.hasGuidOption, true);
  assert.equal(c.guid, undefined);
  p.options.set(94, Buffer.from([1, 2]));
  assert.equal(classify(p).nii, undefined, 'a malformed 94 is left unset, not thrown');
});
