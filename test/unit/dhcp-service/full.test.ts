/**
 * Full DHCP mode through `inject`: DORA with real client captures, reservations, NAK/silent cases,
 * renew, RELEASE/DECLINE/INFORM, relays, pool exhaustion and no double allocation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '../../../core/dhcp/codec.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { decodeSubOptions } from '../../../core/dhcp/option-values.js';
import { DHCPDECLINE, DHCPDISCOVER, DHCPINFORM, DHCPRELEASE, DHCPREQUEST } from '../../../core/dhcp/packet.js';
import type { DhcpPool } from '../../../core/config/types.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { codes, makeServer, randomMac, request } from './helpers.js';

const local = { address: '10.77.0.1', interface: 'eth0' };
const lan: DhcpPool = {
  subnet: '10.77.0.0/24',
  range: ['10.77.0.100', '10.77.0.199'],
  router: '10.77.0.1',
  dns: ['10.77.0.1'],
  domain: 'lab.test',
  leaseTime: 3600,
  reservations: [{ mac: '52:54:00:AA:BB:CC', ip: '10.77.0.50', hostname: 'reserved-host' }],
};
const relayed: DhcpPool = {
  subnet: '10.78.0.0/16',
  range: ['10.78.1.0', '10.78.4.255'],
  leaseTime: 600,
  reservations: [],
};
const full = (pools: DhcpPool[] = [lan, relayed], extra = {}) =>
  makeServer({ dhcp: { mode: 'full', serverAddress: '10.77.0.1', pools, ...extra } });

async function dora(server: ReturnType<typeof full>['server'], mac: string, fields = {}, opts = {}) {
  const [offer] = await server.inject.dhcp(request(mac, DHCPDISCOVER, fields), { local, ...opts });
  if (!offer) return undefined;
  const [ack] = await server.inject.dhcp(
    request(mac, DHCPREQUEST, fields, { 54: '10.77.0.1', 50: offer.packet.yiaddr }),
    { local, ...opts },
  );
  if (!ack) return undefined;
  return { offer, ack };
}

test('dhclient DORA: OFFER and ACK with pool options, broadcast (no ARP), lease bound in the store', async () => {
  const { server, events } = full();
  const [offer] = await server.inject.dhcp(loadFixture('dhclient-discover'), { local });
  const o = offer!.packet;
  assert.match(o.yiaddr, /^10\.77\.0\.1\d\d$/);
  assert.deepEqual(offer!.to, { address: '255.255.255.255', port: 68, broadcast: true });
  for (const code of codes(decode(loadFixture('dnsmasq-offer-dhclient'))))
    assert.ok(o.options.has(code), `option ${code}`);
  assert.equal(getOption(o, 51), 3600);
  assert.equal(getOption(o, 58), 1800);
  assert.equal(getOption(o, 59), 3150);
  assert.equal(getOption(o, 1), '255.255.255.0');
  assert.equal(getOption(o, 28), '10.77.0.255');
  assert.deepEqual(getOption(o, 6), ['10.77.0.1']);
  assert.equal(getOption(o, 15), 'lab.test');
  const mac = o.mac;
  assert.equal((await server.dhcp.leaseStore.get(mac))?.state, 'offered');
  const [ack] = await server.inject.dhcp(request(mac, DHCPREQUEST, { xid: o.xid }, { 54: '10.77.0.1', 50: o.yiaddr }), {
    local,
  });
  assert.equal(getOption(ack!.packet, 53), 5);
  assert.equal(ack!.packet.yiaddr, o.yiaddr);
  const lease = await server.dhcp.leaseStore.get(mac);
  assert.equal(lease?.state, 'bound');
  assert.equal(lease?.ip, o.yiaddr);
  assert.deepEqual(
    events.map((e) => e.type).filter((t) => t !== 'dhcp.noboot'),
    ['dhcp.discover', 'dhcp.offer', 'dhcp.request', 'dhcp.ack'],
  );
  assert.equal(server.sessions.get(mac)?.ip, o.yiaddr);
});

test('PXE clients in full mode: boot file in 67 and file; iPXE gets 175.176; HTTP boot gets 60 HTTPClient', async () => {
  const { server } = full();
  const [edk2] = await server.inject.dhcp(loadFixture('uefi-edk2-discover'), { local });
  for (const code of codes(decode(loadFixture('dnsmasq-offer-uefi-edk2'))))
    assert.ok(edk2!.packet.options.has(code), `option ${code}`);
  assert.equal(getOption(edk2!.packet, 67), 'ipxe.efi');
  assert.equal(edk2!.packet.file, 'ipxe.efi');
  assert.equal(edk2!.packet.siaddr, '10.77.0.1');
  assert.ok(!edk2!.packet.options.has(60), 'no PXEClient echo in a full offer (EDK2 would go to 4011)');
  const [ipxe] = await server.inject.dhcp(loadFixture('bios-ipxe-rom-discover'), { local });
  assert.deepEqual(decodeSubOptions(ipxe!.packet.options.get(175)!)?.get(176), Buffer.from([1]));
  const [http] = await server.inject.dhcp(loadFixture('uefi-httpboot-discover'), { local });
  assert.equal(getOption(http!.packet, 60), 'HTTPClient');
  assert.equal(getOption(http!.packet, 67), 'http://10.99.0.1/ipxe.efi');
});

test('a reserved MAC gets its address and host name; nobody else gets it', async () => {
  const { server } = full();
  const r = await dora(server, '52:54:00:aa:bb:cc');
  assert.equal(r?.ack.packet.yiaddr, '10.77.0.50');
  assert.equal(getOption(r!.ack.packet, 12), 'reserved-host');
  const [offer] = await server.inject.dhcp(request('52:54:00:00:00:01', DHCPDISCOVER, {}, { 50: '10.77.0.50' }), {
    local,
  });
  assert.notEqual(offer!.packet.yiaddr, '10.77.0.50');
  const [nak] = await server.inject.dhcp(
    request('52:54:00:00:00:01', DHCPREQUEST, {}, { 54: '10.77.0.1', 50: '10.77.0.50' }),
    { local },
  );
  assert.equal(getOption(nak!.packet, 53), 6);
});

test("INIT-REBOOT: wrong subnet → NAK (broadcast), unknown client → silent, someone else's address → NAK, own → ACK", async () => {
  const { server } = full();
  const initReboot = (mac: string, ip: string) =>
    server.inject.dhcp(request(mac, DHCPREQUEST, {}, { 50: ip }), { local });
  const [wrong] = await initReboot('52:54:00:00:00:02', '10.99.0.250');
  assert.equal(getOption(wrong!.packet, 53), 6);
  assert.equal(wrong!.packet.yiaddr, '0.0.0.0');
  assert.deepEqual(wrong!.to, { address: '255.255.255.255', port: 68, broadcast: true });
  assert.deepEqual(await initReboot('52:54:00:00:00:03', '10.77.0.150'), []);
  const a = await dora(server, '52:54:00:00:00:04');
  const b = await dora(server, '52:54:00:00:00:05');
  const [stolen] = await initReboot('52:54:00:00:00:05', a!.ack.packet.yiaddr);
  assert.equal(getOption(stolen!.packet, 53), 6);
  const [own] = await initReboot('52:54:00:00:00:05', b!.ack.packet.yiaddr);
  assert.equal(getOption(own!.packet, 53), 5);
});

test('REQUEST naming another server releases our hold, with no reply', async () => {
  const { server } = full();
  const mac = '52:54:00:00:00:06';
  const [offer] = await server.inject.dhcp(request(mac, DHCPDISCOVER), { local });
  assert.deepEqual(
    await server.inject.dhcp(request(mac, DHCPREQUEST, {}, { 54: '10.77.0.3', 50: '10.77.0.222' }), { local }),
    [],
  );
  assert.equal((await server.dhcp.leaseStore.getByIp(offer!.packet.yiaddr))?.state, 'released');
});

test("RENEWING extends the lease (unicast ACK to ciaddr); renewing another client's address → NAK", async () => {
  const { server } = full();
  const a = await dora(server, '52:54:00:00:00:07');
  const ip = a!.ack.packet.yiaddr;
  const before = (await server.dhcp.leaseStore.get('52:54:00:00:00:07'))!.updatedAt;
  const [renew] = await server.inject.dhcp(request('52:54:00:00:00:07', DHCPREQUEST, { ciaddr: ip }), {
    local,
    source: { address: ip, port: 68 },
  });
  assert.equal(getOption(renew!.packet, 53), 5);
  assert.equal(renew!.packet.ciaddr, ip);
  assert.deepEqual(renew!.to, { address: ip, port: 68, broadcast: false });
  assert.ok((await server.dhcp.leaseStore.get('52:54:00:00:00:07'))!.updatedAt >= before);
  const [nak] = await server.inject.dhcp(request('52:54:00:00:00:08', DHCPREQUEST, { ciaddr: ip }), { local });
  assert.equal(getOption(nak!.packet, 53), 6);
});

test('RELEASE frees the address (same client gets it back); DECLINE quarantines it', async () => {
  const { server, events } = full();
  const mac = '52:54:00:00:00:09';
  const ip = (await dora(server, mac))!.ack.packet.yiaddr;
  assert.deepEqual(
    await server.inject.dhcp(request(mac, DHCPRELEASE, { ciaddr: ip }, { 54: '10.77.0.1' }), { local }),
    [],
  );
  assert.equal((await server.dhcp.leaseStore.getByIp(ip))?.state, 'released');
  assert.ok(events.some((e) => e.type === 'dhcp.release' && e.data.released === true));
  const again = await dora(server, mac);
  assert.equal(again?.ack.packet.yiaddr, ip, 'prefers its previous address');
  assert.deepEqual(await server.inject.dhcp(request(mac, DHCPDECLINE, {}, { 54: '10.77.0.1', 50: ip }), { local }), []);
  assert.equal((await server.dhcp.leaseStore.getByIp(ip))?.state, 'declined');
  const next = await dora(server, mac);
  assert.notEqual(next?.ack.packet.yiaddr, ip);
  // A DECLINE of an address that is not the client's changes nothing.
  await server.inject.dhcp(
    request('52:54:00:00:00:10', DHCPDECLINE, {}, { 54: '10.77.0.1', 50: next!.ack.packet.yiaddr }),
    { local },
  );
  assert.equal((await server.dhcp.leaseStore.getByIp(next!.ack.packet.yiaddr))?.state, 'bound');
});

test('INFORM → ACK with options, no yiaddr and no lease time, unicast to ciaddr', async () => {
  const { server } = full();
  const [ack] = await server.inject.dhcp(request('52:54:00:00:00:11', DHCPINFORM, { ciaddr: '10.77.0.20' }), { local });
  assert.equal(getOption(ack!.packet, 53), 5);
  assert.equal(ack!.packet.yiaddr, '0.0.0.0');
  assert.ok(!ack!.packet.options.has(51) && !ack!.packet.options.has(58));
  assert.equal(getOption(ack!.packet, 1), '255.255.255.0');
  assert.deepEqual(ack!.to, { address: '10.77.0.20', port: 68, broadcast: false });
});

test('relayed DISCOVER: pool by giaddr, reply to relay:67, option 82 echoed last; unknown relay subnet → no pool', async () => {
  const { server, lines } = full();
  const agent = Buffer.from([1, 3, 0x65, 0x74, 0x68]);
  const p = request('52:54:00:00:00:12', DHCPDISCOVER, { giaddr: '10.78.0.2', hops: 1 });
  p.options.set(82, agent);
  const [offer] = await server.inject.dhcp(p, { source: { address: '10.78.0.2', port: 67 } });
  assert.match(offer!.packet.yiaddr, /^10\.78\.[1-4]\.\d+$/);
  assert.deepEqual(offer!.to, { address: '10.78.0.2', port: 67, broadcast: false });
  assert.equal(codes(offer!.packet).at(-1), 82);
  assert.deepEqual(offer!.packet.options.get(82), agent);
  assert.equal(getOption(offer!.packet, 1), '255.255.0.0');
  // RFC 3527 link selection (82.5) overrides giaddr for the pool choice.
  const linked = request('52:54:00:00:00:14', DHCPDISCOVER, { giaddr: '10.200.0.1' });
  linked.options.set(82, Buffer.from([5, 4, 10, 77, 0, 0]));
  const [viaLink] = await server.inject.dhcp(linked, { source: { address: '10.200.0.1', port: 67 } });
  assert.match(viaLink!.packet.yiaddr, /^10\.77\.0\.1\d\d$/);
  const none = await server.inject.dhcp(request('52:54:00:00:00:13', DHCPDISCOVER, { giaddr: '10.200.0.1' }), {
    source: { address: '10.200.0.1', port: 67 },
  });
  assert.deepEqual(none, []);
  assert.ok(lines.some((l) => l.event === 'dhcp.drop' && l.code === 'PXE_ERR_DHCP_NO_POOL'));
});

test('pool exhaustion: no reply and PXE_ERR_DHCP_POOL_EXHAUSTED logged', async () => {
  const tiny: DhcpPool = {
    subnet: '10.77.0.0/24',
    range: ['10.77.0.100', '10.77.0.102'],
    leaseTime: 600,
    reservations: [],
  };
  const { server, lines } = full([tiny]);
  for (let i = 0; i < 3; i++) assert.ok(await dora(server, randomMac(i)), `client ${i}`);
  assert.deepEqual(await server.inject.dhcp(request(randomMac(99), DHCPDISCOVER), { local }), []);
  assert.ok(lines.some((l) => l.code === 'PXE_ERR_DHCP_POOL_EXHAUSTED' && l.level === 40));
});

test('1,000 concurrent random clients (each DISCOVERing twice) never share an address', async () => {
  const { server } = full([lan, relayed]);
  const relay = { source: { address: '10.78.0.2', port: 67 } };
  const macs = Array.from({ length: 1000 }, (_, i) => randomMac(i + 1000));
  const results = await Promise.all(
    macs.map(async (mac) => {
      const [a, b] = await Promise.all(
        [0, 1].map(() => server.inject.dhcp(request(mac, DHCPDISCOVER, { giaddr: '10.78.0.2' }), relay)),
      );
      const offered = (b?.[0] ?? a?.[0])!.packet.yiaddr;
      const [ack] = await server.inject.dhcp(
        request(mac, DHCPREQUEST, { giaddr: '10.78.0.2' }, { 54: '10.77.0.1', 50: offered }),
        relay,
      );
      return getOption(ack!.packet, 53) === 5 ? ack!.packet.yiaddr : undefined;
    }),
  );
  const acked = results.filter((x): x is string => x !== undefined);
  assert.equal(acked.length, 1000);
  assert.equal(new Set(acked).size, acked.length, 'an address was ACKed twice');
  const bound = (await server.dhcp.leaseStore.list()).filter((l) => l.state === 'bound');
  assert.equal(new Set(bound.map((l) => l.ip)).size, bound.length);
  assert.equal(new Set(bound.map((l) => l.mac)).size, bound.length);
});

test('selectLease may propose an address; it is still checked', async () => {
  const { server } = makeServer({ dhcp: { mode: 'full', serverAddress: '10.77.0.1', pools: [lan] } }, [
    (await import('../../../core/plugin.js')).definePlugin({
      name: 'pick',
      apply(s) {
        s.dhcp.hooks.selectLease.tap('pick', (sel) => ({
          ip: sel.ctx.packet.mac.endsWith('01') ? '10.77.0.123' : '10.77.0.50',
        }));
      },
    }),
  ]);
  const [a] = await server.inject.dhcp(request('52:54:00:00:01:01', DHCPDISCOVER), { local });
  assert.equal(a!.packet.yiaddr, '10.77.0.123');
  const [b] = await server.inject.dhcp(request('52:54:00:00:01:02', DHCPDISCOVER), { local });
  assert.notEqual(b!.packet.yiaddr, '10.77.0.50', 'a reserved address is never proposed to another MAC');
});
