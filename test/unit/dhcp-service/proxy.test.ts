/**
 * ProxyDHCP through `inject` with the real captured requests, compared with dnsmasq 2.90's replies
 * to the same clients (test/fixtures/dhcp/dnsmasq-proxy-*).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '../../../core/dhcp/codec.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { parsePxeVendorOptions } from '../../../core/dhcp/pxe-vendor.js';
import { DHCPDISCOVER, DHCPREQUEST } from '../../../core/dhcp/packet.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { codes, makeServer, request, testBoot } from './helpers.js';

const local = { address: '10.99.0.1', interface: 'eth0' };
const proxy = () => makeServer({ dhcp: { mode: 'proxy', serverAddress: '10.99.0.1' } });

test('EDK2 DISCOVER: bootserver offer byte-identical to dnsmasq (no 43, no file, siaddr = us)', async () => {
  const { server, events } = proxy();
  const [r, ...more] = await server.inject.dhcp(loadFixture('proxy-uefi-edk2-discover'), { local });
  assert.equal(more.length, 0);
  const ref = loadFixture('dnsmasq-proxy-offer-uefi-edk2');
  assert.deepEqual(codes(r!.packet), codes(decode(ref)));
  assert.equal(r!.buffer.toString('hex'), ref.toString('hex'));
  assert.deepEqual(r!.to, { address: '255.255.255.255', port: 68, broadcast: true });
  const ev = events.find((e) => e.type === 'dhcp.proxy.offer');
  assert.equal(ev?.plugin, 'test-boot');
  assert.equal(ev?.data.policy, 'bootserver');
  assert.equal(server.sessions.get('52:54:00:00:ef:64')?.boot?.decidedBy, 'test-boot');
});

test('BIOS iPXE ROM DISCOVER: option43 offer with 43.6 = 8 and the boot file, like dnsmasq', async () => {
  const { server } = proxy();
  const discover = loadFixture('bios-ipxe-rom-discover');
  const [r] = await server.inject.dhcp(discover, { local });
  const ref = decode(loadFixture('dnsmasq-proxy-offer-bios-ipxe'));
  const p = r!.packet;
  for (const code of codes(ref)) assert.ok(p.options.has(code), `option ${code} missing`);
  assert.equal(p.yiaddr, '0.0.0.0');
  assert.equal(p.file, ref.file);
  assert.equal(getOption(p, 60), 'PXEClient');
  assert.deepEqual(p.options.get(97), decode(discover).options.get(97));
  assert.equal(parsePxeVendorOptions(p.options.get(43)!)?.discoveryControl, 8);
  assert.equal(getOption(p, 67), 'http://10.99.0.1/boot.ipxe');
  assert.equal(getOption(p, 54), '10.99.0.1');
});

test('EDK2 REQUEST on 4011 → ACK to its address:4011 with the file, fields as dnsmasq', async () => {
  const { server, events } = proxy();
  const [r] = await server.inject.dhcp(loadFixture('uefi-edk2-request-4011'), {
    port: 'bootserver',
    source: { address: '10.99.0.210', port: 4011 },
    local,
  });
  const ref = decode(loadFixture('dnsmasq-proxy-ack-4011-uefi-edk2'));
  const p = r!.packet;
  assert.deepEqual(r!.to, { address: '10.99.0.210', port: 4011, broadcast: false });
  for (const f of ['op', 'xid', 'flags', 'ciaddr', 'yiaddr', 'siaddr', 'sname', 'file', 'mac'] as const)
    assert.equal(p[f], ref[f], f);
  for (const code of codes(ref)) assert.deepEqual(p.options.get(code), ref.options.get(code), `option ${code}`);
  assert.ok(events.some((e) => e.type === 'dhcp.bootserver.ack' && e.data.bootFile === 'ipxe.efi'));
  assert.equal(server.sessions.get('52:54:00:00:ef:64')?.ip, '10.99.0.210');
});

test('ipxe.efi REQUEST on 4011 from port 68 → ACK to :68 with the script URL', async () => {
  const { server } = proxy();
  const [r] = await server.inject.dhcp(loadFixture('uefi-ipxe-efi-request-4011'), {
    port: 'bootserver',
    source: { address: '10.99.0.210', port: 68 },
    local,
  });
  const ref = decode(loadFixture('dnsmasq-proxy-ack-4011-uefi-ipxe'));
  assert.deepEqual(r!.to, { address: '10.99.0.210', port: 68, broadcast: false });
  for (const f of ['xid', 'ciaddr', 'yiaddr', 'siaddr', 'sname', 'file'] as const)
    assert.equal(r!.packet[f], ref[f], f);
  for (const code of codes(ref)) assert.deepEqual(r!.packet.options.get(code), ref.options.get(code), `option ${code}`);
});

test('BIOS ROM boot-server REQUEST (xid 0, 43.71) → ACK echoing the boot item, yiaddr = its address', async () => {
  const { server } = proxy();
  const [r] = await server.inject.dhcp(loadFixture('bios-ipxe-rom-request-4011'), {
    port: 'bootserver',
    source: { address: '10.99.0.162', port: 68 },
    local,
  });
  const ref = decode(loadFixture('dnsmasq-proxy-ack-4011-bios-ipxe'));
  const p = r!.packet;
  for (const f of ['xid', 'ciaddr', 'yiaddr', 'siaddr', 'sname', 'file'] as const) assert.equal(p[f], ref[f], f);
  assert.equal(p.xid, 0);
  assert.deepEqual(
    parsePxeVendorOptions(p.options.get(43)!)?.bootItem,
    parsePxeVendorOptions(ref.options.get(43)!)?.bootItem,
  );
  assert.deepEqual(r!.to, { address: '10.99.0.162', port: 68, broadcast: false });
});

test('plain clients (dhclient, udhcpc) get no proxy answer', async () => {
  const { server, events } = proxy();
  for (const f of ['dhclient-discover', 'udhcpc-discover', 'dhclient-request']) {
    assert.deepEqual(await server.inject.dhcp(loadFixture(f), { local }), [], f);
  }
  assert.ok(!events.some((e) => e.type === 'dhcp.proxy.offer'));
  assert.equal(server.dhcp.stats.replies, 0);
});

test('UEFI HTTP boot: proxy offer with 60 HTTPClient and the URL, no option 43', async () => {
  const { server } = proxy();
  const [r] = await server.inject.dhcp(loadFixture('uefi-httpboot-discover'), { local });
  assert.equal(getOption(r!.packet, 60), 'HTTPClient');
  assert.equal(getOption(r!.packet, 67), 'http://10.99.0.1/ipxe.efi');
  assert.equal(r!.packet.file, 'http://10.99.0.1/ipxe.efi');
  assert.ok(!r!.packet.options.has(43));
});

test('proxyPolicy from the plugin overrides the default; noBoot and no decision mean no answer', async () => {
  const { server } = makeServer({ dhcp: { mode: 'proxy', serverAddress: '10.99.0.1' } }, [
    testBoot((ctx) => {
      if (ctx.client.arch === 7) return { file: 'snponly.efi', proxyPolicy: 'option43' };
      if (ctx.client.arch === 11) return { noBoot: true };
      return undefined;
    }),
  ]);
  const [r] = await server.inject.dhcp(loadFixture('proxy-uefi-edk2-discover'), { local });
  assert.equal(parsePxeVendorOptions(r!.packet.options.get(43)!)?.discoveryControl, 8);
  assert.equal(r!.packet.file, 'snponly.efi');
  assert.deepEqual(await server.inject.dhcp(loadFixture('arm64-edk2-discover'), { local }), []);
  assert.deepEqual(await server.inject.dhcp(loadFixture('bios-ipxe-rom-discover'), { local }), []);
});

test('REQUEST on 67 is answered only when option 54 names us', async () => {
  const { server } = proxy();
  const mac = '52:54:00:aa:00:01';
  const pxe = { 60: 'PXEClient:Arch:00000:UNDI:002001', 93: [0] };
  const other = request(mac, DHCPREQUEST, {}, { ...pxe, 54: '10.99.0.3', 50: '10.99.0.150' });
  assert.deepEqual(await server.inject.dhcp(other, { local }), []);
  const ours = request(mac, DHCPREQUEST, {}, { ...pxe, 54: '10.99.0.1' });
  const [r] = await server.inject.dhcp(ours, { local });
  assert.equal(getOption(r!.packet, 53), 5);
  assert.equal(r!.packet.yiaddr, '0.0.0.0');
  assert.equal(r!.packet.file, 'ipxe.efi');
  // A DISCOVER is answered as usual.
  assert.equal((await server.inject.dhcp(request(mac, DHCPDISCOVER, {}, pxe), { local })).length, 1);
});
