/**
 * lease-redis through two real full-mode DHCP pipelines (inject) sharing one redis-server: both see
 * every DISCOVER at the same moment, no address is ever ACKed to two clients; during an outage a
 * known client renews and a new one is dropped quietly; afterwards new clients are served again.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { DhcpPool } from 'pxekit';
import { DHCPDISCOVER, DHCPREQUEST, getOption } from 'pxekit/kit';
import { makeServer, randomMac, request } from '../../test/unit/dhcp-service/helpers.js';
import { eventually } from '../../test/integration/scaleout/log-capture.js';
import { redisAvailable, startRedis, type TestRedis } from '../../test/integration/scaleout/redis-server.js';
import leaseRedis from './index.js';

const skip = redisAvailable();
const pool: DhcpPool = {
  subnet: '10.77.0.0/24',
  range: ['10.77.0.100', '10.77.0.199'],
  leaseTime: 3600,
  reservations: [],
};

async function fullInstance(
  t: TestContext,
  redis: TestRedis,
  sid: string,
  outageRenewal: 'extend' | 'confirmed' = 'extend',
) {
  const plugin = leaseRedis({ redis: { url: redis.url, keyPrefix: 's:' }, outageRenewal });
  const ts = makeServer(
    { dhcp: { mode: 'full', serverAddress: sid, port: 0, pools: [pool] }, hooks: { timeoutMs: 5000 } } as never,
    [plugin],
  );
  await ts.server.start();
  t.after(() => ts.server.close());
  const local = { address: sid, interface: 'eth0' };
  return {
    ...ts,
    plugin,
    sid,
    inject: (p: Parameters<typeof ts.server.inject.dhcp>[0]) => ts.server.inject.dhcp(p, { local }),
  };
}

test(
  'two instances get every DISCOVER at once: 80 clients, no address ACKed twice',
  { skip, timeout: 60_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await fullInstance(t, redis, '10.77.0.1');
    const b = await fullInstance(t, redis, '10.77.0.2');
    const macs = Array.from({ length: 80 }, (_, i) => randomMac(i));
    const acked = new Map<string, string>();
    await Promise.all(
      macs.map(async (mac, i) => {
        const discover = request(mac, DHCPDISCOVER);
        const [oa, ob] = await Promise.all([a.inject(discover), b.inject(discover)]);
        // The shared proposal: both instances offer the client the same address.
        if (oa[0] && ob[0]) assert.equal(oa[0].packet.yiaddr, ob[0].packet.yiaddr, `${mac} offered two addresses`);
        // The client takes one offer (alternating, as the first to arrive would vary) and broadcasts its REQUEST.
        const pick = (i % 2 ? [ob[0], b.sid] : [oa[0], a.sid]) as [(typeof oa)[0], string];
        const offer = pick[0] ?? oa[0] ?? ob[0];
        const sid = pick[0] ? pick[1] : oa[0] ? a.sid : b.sid;
        assert.ok(offer, `no offer for ${mac}`);
        const req = request(mac, DHCPREQUEST, {}, { 54: sid, 50: offer.packet.yiaddr });
        const [ra, rb] = await Promise.all([a.inject(req), b.inject(req)]);
        const acks = [...ra, ...rb].filter((r) => r.packet.options.get(53)?.[0] === 5);
        assert.equal(acks.length, 1, `${mac}: ${acks.length} ACKs`);
        const ip = acks[0]!.packet.yiaddr;
        assert.equal(acked.get(ip), undefined, `${ip} ACKed to ${acked.get(ip)} and ${mac}`);
        acked.set(ip, mac);
      }),
    );
    assert.equal(acked.size, 80);
    const c = redis.client();
    for (const [ip, mac] of acked) {
      const rec = await c.hgetall(`s:lease:ip:${ip}`);
      assert.equal(rec.mac, mac);
      assert.equal(rec.state, 'bound');
    }
  },
);

test(
  'outage through the pipeline: known client renewed, new client dropped quietly, served again after',
  { skip, timeout: 60_000 },
  async (t) => {
    const redis = await startRedis(t, { aof: true });
    const a = await fullInstance(t, redis, '10.77.0.1');
    const known = randomMac(1);
    const [offer] = await a.inject(request(known, DHCPDISCOVER));
    const ip = offer!.packet.yiaddr;
    const [ack] = await a.inject(request(known, DHCPREQUEST, {}, { 54: a.sid, 50: ip }));
    assert.equal(ack!.packet.options.get(53)?.[0], 5);

    await redis.stop();
    await eventually(() => a.lines.some((l) => l.event === 'redis.down'), 5000, 'the outage report');
    // RENEWING: unicast from the client's address, ciaddr set.
    const [renew] = await a.inject(request(known, DHCPREQUEST, { ciaddr: ip }));
    assert.equal(renew?.packet.options.get(53)?.[0], 5, 'renewal ACKed from the cache');
    assert.equal(renew!.packet.yiaddr, ip);
    assert.equal(getOption(renew!.packet, 51), 3600, 'extend: the pool lease time');
    const stranger = randomMac(2);
    assert.deepEqual(await a.inject(request(stranger, DHCPDISCOVER)), []);
    const drop = a.events.find((e) => e.type === 'dhcp.drop' && e.mac === stranger);
    assert.equal(drop?.plugin, 'lease-redis');
    assert.match(String(drop?.data.reason), /Redis is down/);
    // A rebinding client this instance never served (its lease came from another instance).
    assert.deepEqual(await a.inject(request(randomMac(3), DHCPREQUEST, { ciaddr: '10.77.0.150' })), []);
    assert.equal(a.lines.filter((l) => l.event === 'redis.down').length, 1);
    assert.equal(
      a.lines.filter((l) => (l.level as number) >= 50 && l.event !== 'redis.down').length,
      0,
      'no error line per packet',
    );

    await redis.start();
    await eventually(() => a.lines.some((l) => l.event === 'lease-redis.writeback.done'), 10_000, 'the write-back');
    const [later] = await a.inject(request(stranger, DHCPDISCOVER));
    assert.ok(later, 'new clients served again');
    assert.notEqual(later.packet.yiaddr, ip);
    const rec = await redis.client().hgetall(`s:lease:ip:${ip}`);
    assert.equal(rec.mac, known);
    assert.equal(rec.state, 'bound');
  },
);

test(
  'outageRenewal confirmed: a renewal during an outage only lasts as long as Redis confirmed',
  { skip, timeout: 60_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await fullInstance(t, redis, '10.77.0.1', 'confirmed');
    const mac = randomMac(9);
    const [offer] = await a.inject(request(mac, DHCPDISCOVER));
    const ip = offer!.packet.yiaddr;
    await a.inject(request(mac, DHCPREQUEST, {}, { 54: a.sid, 50: ip }));
    await redis.stop();
    await eventually(() => a.lines.some((l) => l.event === 'redis.down'), 5000, 'the outage report');
    await new Promise((r) => setTimeout(r, 1100));
    const [renew] = await a.inject(request(mac, DHCPREQUEST, { ciaddr: ip }));
    const secs = getOption(renew!.packet, 51)!;
    assert.ok(secs < 3600 && secs > 3590, `lease time ${secs}: the rest of the confirmed lease`);
    assert.equal(getOption(renew!.packet, 58), Math.floor(secs / 2));
    assert.equal(a.plugin.store!.pendingWrites, 0, 'nothing to write back');
  },
);
