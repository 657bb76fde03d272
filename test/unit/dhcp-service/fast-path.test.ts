/**
 * The per-packet shortcuts keep behaviour: pre-encoded pool options equal freshly encoded ones and
 * are not shared between replies; a known client's session still follows what it sends; the
 * packet `inject` shows is the bytes sent; per-packet log lines keep their xid/mac/dhcp fields.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '../../../core/dhcp/codec.js';
import { encodePoolOptions, putPoolOptions } from '../../../core/dhcp/full.js';
import { buildPools } from '../../../core/dhcp/leases/pool.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { createPacket, DHCPDISCOVER, DHCPREQUEST } from '../../../core/dhcp/packet.js';
import type { DhcpPool } from '../../../core/config/types.js';
import { makeServer, request } from './helpers.js';

const local = { address: '10.77.0.1', interface: 'eth0' };
const lan: DhcpPool = {
  subnet: '10.77.0.0/24',
  range: ['10.77.0.100', '10.77.0.199'],
  router: '10.77.0.1',
  dns: ['10.77.0.1', '9.9.9.9'],
  domain: 'lab.test',
  leaseTime: 7200,
  reservations: [],
};

test('pre-encoded pool options: same codes, order and bytes as encoding them; each reply gets its own bytes', () => {
  const [pool] = buildPools([lan]);
  const encoded = encodePoolOptions(pool!);
  for (const leaseTime of [7200, 600, undefined]) {
    const fresh = createPacket();
    putPoolOptions(fresh, pool!, leaseTime, 'host-a');
    const copied = createPacket();
    putPoolOptions(copied, pool!, leaseTime, 'host-a', encoded);
    assert.deepEqual([...copied.options.keys()], [...fresh.options.keys()], `order, lease ${leaseTime}`);
    for (const [code, bytes] of fresh.options)
      assert.deepEqual(copied.options.get(code), bytes, `option ${code}, lease ${leaseTime}`);
  }
  const first = createPacket();
  putPoolOptions(first, pool!, 7200, undefined, encoded);
  first.options.get(3)!.fill(0); // a reply tap editing bytes in place
  const second = createPacket();
  putPoolOptions(second, pool!, 7200, undefined, encoded);
  assert.equal(getOption(second, 3)?.[0], '10.77.0.1');
  assert.equal(getOption(second, 51), 7200);
});

test('known client: the session follows what it sends (vendor class, user class, iPXE), unchanged when it repeats itself', async () => {
  const { server } = makeServer({ dhcp: { mode: 'full', serverAddress: '10.77.0.1', pools: [lan] } });
  const mac = '52:54:00:12:34:56';
  await server.inject.dhcp(request(mac, DHCPDISCOVER, {}, { 60: 'PXEClient:Arch:00007:UNDI:003016', 93: [7] }), {
    local,
  });
  const s1 = server.sessions.get(mac)!;
  assert.equal(s1.vendorClass, 'PXEClient:Arch:00007:UNDI:003016');
  assert.equal(s1.isIpxe, false);
  assert.deepEqual(s1.userClass, []);
  await server.inject.dhcp(request(mac, DHCPDISCOVER, {}, { 60: 'PXEClient:Arch:00007:UNDI:003016', 93: [7] }), {
    local,
  });
  assert.equal(server.sessions.get(mac)?.vendorClass, 'PXEClient:Arch:00007:UNDI:003016');
  await server.inject.dhcp(
    request(mac, DHCPDISCOVER, {}, { 60: 'PXEClient:Arch:00007:UNDI:003016', 93: [7], 77: Buffer.from('iPXE') }),
    { local },
  );
  const s3 = server.sessions.get(mac)!;
  assert.equal(s3.isIpxe, true);
  assert.deepEqual(s3.userClass, ['iPXE']);
  assert.equal(s3.arch, 7);
  await server.inject.dhcp(request(mac, DHCPDISCOVER, {}, { 60: 'HTTPClient:Arch:00016:UNDI:003001', 93: [16] }), {
    local,
  });
  const s4 = server.sessions.get(mac)!;
  assert.equal(s4.vendorClass, 'HTTPClient:Arch:00016:UNDI:003001');
  assert.equal(s4.arch, 16);
  assert.equal(s4.isIpxe, false);
  assert.deepEqual(s4.userClass, []);
  await server.close();
});

test('inject: the packet is the decoded bytes; an ACK records the client address; reply lines keep xid, mac and dhcp', async () => {
  const { server, lines, events } = makeServer({ dhcp: { mode: 'full', serverAddress: '10.77.0.1', pools: [lan] } });
  const mac = '52:54:00:ab:cd:ef';
  const [offer] = await server.inject.dhcp(request(mac, DHCPDISCOVER, { xid: 0x1234abcd }), { local });
  assert.deepEqual(offer!.packet, decode(offer!.buffer));
  const ip = offer!.packet.yiaddr;
  assert.equal(server.sessions.get(mac)?.ip, undefined, 'an OFFER does not give the session an address');
  const [ack] = await server.inject.dhcp(request(mac, DHCPREQUEST, { xid: 0x1234abcd }, { 54: '10.77.0.1', 50: ip }), {
    local,
  });
  assert.equal(getOption(ack!.packet, 53), 5);
  assert.equal(server.sessions.get(mac)?.ip, ip);
  assert.equal(server.sessions.byIp(ip)?.mac, mac);
  const line = lines.find((l) => l.event === 'dhcp.ack');
  assert.equal(line?.xid, '0x1234abcd');
  assert.equal(line?.mac, mac);
  assert.equal(line?.dhcp, 'REQUEST');
  assert.equal(line?.yiaddr, ip);
  const ackEvent = events.find((e) => e.type === 'dhcp.ack');
  assert.equal(ackEvent?.data.yiaddr, ip);
  assert.equal(ackEvent?.data.siaddr, ack!.packet.siaddr);
  await server.close();
});
