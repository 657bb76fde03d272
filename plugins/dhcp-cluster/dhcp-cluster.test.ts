/**
 * dhcp-cluster: rendezvous ownership, and two ProxyDHCP servers on one real redis-server answering
 * each client exactly once; a member that stops heart-beating ages out and its clients move; with
 * Redis gone every instance answers.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DHCPDISCOVER } from 'pxekit/kit';
import { makeServer, randomMac, request, testBoot } from '../../test/unit/dhcp-service/helpers.js';
import { eventually } from '../../test/integration/scaleout/log-capture.js';
import { redisAvailable, startRedis, type TestRedis } from '../../test/integration/scaleout/redis-server.js';
import dhcpCluster from './index.js';
import { ownerOf } from './rendezvous.js';

const skip = redisAvailable();
const local = { address: '10.99.0.1', interface: 'eth0' };
const pxe = { 60: 'PXEClient:Arch:00000:UNDI:002001', 93: [0] };

test('rendezvous: spread over members; removing one moves only its clients', () => {
  const members = ['a', 'b', 'c'];
  const macs = Array.from({ length: 3000 }, (_, i) => randomMac(i));
  const count = new Map<string, number>();
  for (const m of macs) count.set(ownerOf(m, members)!, (count.get(ownerOf(m, members)!) ?? 0) + 1);
  for (const id of members) assert.ok((count.get(id) ?? 0) > 700, `${id} owns ${count.get(id)} of 3000`);
  for (const m of macs) {
    const before = ownerOf(m, members);
    const after = ownerOf(m, ['a', 'c']);
    if (before !== 'b') assert.equal(after, before, 'clients of live members stay');
    else assert.ok(after === 'a' || after === 'c');
  }
  assert.equal(ownerOf('x', []), undefined);
});

async function proxyInstance(t: TestContext, redis: TestRedis, id: string, heartbeatMs = 200) {
  const plugin = dhcpCluster({
    redis: { url: redis.url, keyPrefix: 'c:' },
    instanceId: id,
    heartbeatMs,
    deadAfterMs: heartbeatMs * 3,
  });
  const ts = makeServer(
    { dhcp: { mode: 'proxy', serverAddress: '10.99.0.1', port: 0, pxePort: 0 }, hooks: { timeoutMs: 5000 } } as never,
    [plugin, testBoot()],
  );
  await ts.server.start();
  t.after(() => ts.server.close());
  return { ...ts, plugin };
}

/** Sends one DISCOVER per MAC to every instance; returns which instances answered each MAC. */
async function answers(
  instances: Array<Awaited<ReturnType<typeof proxyInstance>>>,
  macs: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const mac of macs) {
    const who: string[] = [];
    for (const i of instances) {
      const replies = await i.server.inject.dhcp(request(mac, DHCPDISCOVER, {}, pxe), { local });
      if (replies.length) who.push(i.plugin.membership!.id);
    }
    out.set(mac, who);
  }
  return out;
}

test(
  'two ProxyDHCP instances: each client answered by exactly one; the owner is the rendezvous choice',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await proxyInstance(t, redis, 'inst-a');
    const b = await proxyInstance(t, redis, 'inst-b');
    await eventually(
      () => a.plugin.membership!.members()?.length === 2 && b.plugin.membership!.members()?.length === 2,
      5000,
      'both to see two members',
    );
    const macs = Array.from({ length: 40 }, (_, i) => randomMac(i));
    const got = await answers([a, b], macs);
    for (const [mac, who] of got) {
      assert.equal(who.length, 1, `${mac} answered by ${who.join(', ') || 'nobody'}`);
      assert.equal(who[0], ownerOf(mac, ['inst-a', 'inst-b']));
    }
    assert.ok(
      [...got.values()].some((w) => w[0] === 'inst-a') && [...got.values()].some((w) => w[0] === 'inst-b'),
      'both instances own clients',
    );
    const drop = b.events.find((e) => e.type === 'dhcp.drop' && e.plugin === 'dhcp-cluster');
    assert.match(String(drop?.data.reason), /^owned by inst-a$/);

    // A clean shutdown leaves the set at once: b takes every client at its next heartbeat.
    await a.server.close();
    await eventually(() => b.plugin.membership!.members()?.length === 1, 5000, 'b to see a gone');
    for (const who of (await answers([b], macs)).values()) assert.deepEqual(who, ['inst-b']);
  },
);

test(
  'a member that stops heart-beating ages out; its clients move to the living',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const b = await proxyInstance(t, redis, 'inst-b');
    // A "ghost" instance heart-beating from here, that then dies (kill -9: it never leaves the set).
    const r = redis.client();
    const ghostBeat = async () => {
      const [sec, usec] = await r.time();
      await r.zadd('c:cluster:instances', Number(sec) * 1000 + Math.floor(Number(usec) / 1000), 'ghost');
    };
    await ghostBeat();
    const ghost = setInterval(() => void ghostBeat(), 100);
    t.after(() => clearInterval(ghost));
    await eventually(() => b.plugin.membership!.members()?.includes('ghost'), 5000, 'b to see the ghost');
    const macs = Array.from({ length: 30 }, (_, i) => randomMac(100 + i));
    const ghostOwned = macs.filter((m) => ownerOf(m, ['ghost', 'inst-b']) === 'ghost');
    assert.ok(ghostOwned.length > 0);
    for (const m of ghostOwned)
      assert.deepEqual((await answers([b], [m])).get(m), [], 'the ghost owns it while it looks alive');
    clearInterval(ghost);
    await eventually(() => b.plugin.membership!.members()?.length === 1, 5000, 'the ghost to age out');
    for (const who of (await answers([b], ghostOwned)).values()) assert.deepEqual(who, ['inst-b']);
  },
);

test(
  'Redis down for all, no peer heartbeat: the clients split over the last view (one answer each), one warning each way',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await proxyInstance(t, redis, 'inst-a');
    const b = await proxyInstance(t, redis, 'inst-b');
    await eventually(
      () => a.plugin.membership!.members()?.length === 2 && b.plugin.membership!.members()?.length === 2,
      5000,
      'two members',
    );
    const macs = Array.from({ length: 10 }, (_, i) => randomMac(200 + i));
    await redis.stop();
    await eventually(
      () => a.plugin.view?.mode === 'fallback' && b.plugin.view?.mode === 'fallback',
      5000,
      'both to fall back',
    );
    for (const [mac, who] of await answers([a, b], macs)) assert.deepEqual(who, [ownerOf(mac, ['inst-a', 'inst-b'])]);
    const warnings = (l: Record<string, unknown>) => Number(l.level) >= 40;
    assert.deepEqual(
      a.lines.filter(warnings).map((l) => l.event),
      ['redis.down'],
    );
    assert.ok(a.events.some((e) => e.type === 'redis.down' && e.data.code === 'PXE_ERR_REDIS'));
    await redis.start();
    await eventually(
      () => [a, b].every((i) => i.plugin.view?.mode === 'redis' && i.plugin.view.members.length === 2),
      10_000,
      'both back on Redis, each seeing the other',
    );
    assert.deepEqual(
      a.lines.filter(warnings).map((l) => l.event),
      ['redis.down', 'redis.up'],
    );
    assert.ok(
      a.lines.every((l) => !('err' in l)),
      'no stack trace logged',
    );
    for (const who of (await answers([a, b], macs)).values()) assert.equal(who.length, 1);
  },
);
