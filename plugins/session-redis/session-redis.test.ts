/**
 * session-redis against a real redis-server: a session made by DHCP on instance A is found by IP on
 * instance B (and on C started later); boot intents set, used or cleared on one instance reach the
 * others; after an outage the instances catch up.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DHCPDISCOVER, DHCPREQUEST } from 'pxekit/kit';
import { makeServer, randomMac, request, testBoot } from '../../test/unit/dhcp-service/helpers.js';
import { eventually } from '../../test/integration/scaleout/log-capture.js';
import { redisAvailable, startRedis, type TestRedis } from '../../test/integration/scaleout/redis-server.js';
import bootIntents from 'pxekit/plugins/boot-intents';
import sessionRedis from './index.js';

const skip = redisAvailable();
const local = { address: '10.77.0.1', interface: 'eth0' };
const pxe = { 60: 'PXEClient:Arch:00007:UNDI:003016', 93: [7] };

async function instance(t: TestContext, redis: TestRedis) {
  const plugin = sessionRedis({ redis: { url: redis.url, keyPrefix: 'x:' }, intentPollMs: 100 });
  const ts = makeServer(
    {
      dhcp: {
        mode: 'full',
        serverAddress: '10.77.0.1',
        port: 0,
        pools: [{ subnet: '10.77.0.0/24', range: ['10.77.0.100', '10.77.0.199'], leaseTime: 3600, reservations: [] }],
      },
      hooks: { timeoutMs: 5000 },
    } as never,
    [bootIntents(), testBoot(), plugin],
  );
  await ts.server.start();
  t.after(() => ts.server.close());
  return { ...ts, plugin };
}

async function dora(server: Awaited<ReturnType<typeof instance>>['server'], mac: string): Promise<string> {
  const [offer] = await server.inject.dhcp(request(mac, DHCPDISCOVER, {}, pxe), { local });
  const [ack] = await server.inject.dhcp(
    request(mac, DHCPREQUEST, {}, { ...pxe, 54: '10.77.0.1', 50: offer!.packet.yiaddr }),
    { local },
  );
  return ack!.packet.yiaddr;
}

test(
  'a session made by DHCP on A is found by IP on B, and on C started later',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await instance(t, redis);
    const b = await instance(t, redis);
    const mac = randomMac(1);
    const ip = await dora(a.server, mac);
    await eventually(() => b.server.sessions.byIp(ip)?.mac === mac, 5000, 'B to learn the session');
    const s = b.server.sessions.byIp(ip)!;
    assert.equal(s.boot?.file, 'ipxe.efi', 'the boot decision travels with it');
    assert.equal(s.boot?.decidedBy, 'test-boot');
    assert.equal(s.arch, 7);
    assert.equal(s.firmware, 'uefi');
    const ttl = await redis.client().pttl(`x:session:${mac}`);
    assert.ok(ttl > 0, 'sessions carry a TTL in Redis');

    const c = await instance(t, redis);
    assert.equal(c.server.sessions.byIp(ip)?.mac, mac, 'read back at start');
  },
);

test(
  'boot intents: set on A, used on B, cleared on B: every instance follows',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await instance(t, redis);
    const b = await instance(t, redis);
    const mac = randomMac(2);
    await a.server.provided.get('intents')!.set(mac, 'once');
    await eventually(() => b.server.provided.get('intents')!.get(mac)?.state === 'once', 5000, 'B to see the one-shot');
    await b.server.provided.get('intents')!.markBooted(mac);
    await eventually(() => a.server.provided.get('intents')!.get(mac)?.state === 'done', 5000, 'A to see it used');
    // A's next DHCP answer for that machine: boot from disk.
    const [offer] = await a.server.inject.dhcp(request(mac, DHCPDISCOVER, {}, pxe), { local });
    assert.equal(offer!.packet.file.replace(/\0+$/, ''), '');
    assert.ok(a.events.some((e) => e.type === 'dhcp.noboot' && e.mac === mac));
    await b.server.provided.get('intents')!.clear(mac);
    await eventually(() => a.server.provided.get('intents')!.get(mac) === undefined, 5000, 'A to see it cleared');
    assert.equal(await redis.client().hget('x:intents', mac), null);
  },
);

test(
  'after a Redis outage, intent changes made meanwhile are shared and sessions read back',
  { skip, timeout: 60_000 },
  async (t) => {
    const redis = await startRedis(t, { aof: true });
    const a = await instance(t, redis);
    const b = await instance(t, redis);
    await redis.stop();
    await eventually(
      () => a.lines.some((l) => l.event === 'redis.down') && b.lines.some((l) => l.event === 'redis.down'),
      5000,
      'both to notice',
    );
    const mac = randomMac(3);
    await a.server.provided.get('intents')!.set(mac, 'never');
    const client = randomMac(4);
    const ip = await dora(a.server, client);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.server.provided.get('intents')!.get(mac), undefined);
    await redis.start();
    await eventually(
      () => b.server.provided.get('intents')!.get(mac)?.state === 'never',
      10_000,
      'B to get the mark made during the outage',
    );
    // The session written while Redis was down is lost to B until that client's next DHCP step.
    assert.equal(b.server.sessions.byIp(ip), undefined);
    assert.equal(await dora(a.server, client), ip);
    await eventually(() => b.server.sessions.byIp(ip)?.mac === client, 5000, 'the next DHCP step to share it');
  },
);
