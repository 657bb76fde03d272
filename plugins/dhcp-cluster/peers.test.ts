/**
 * The peer heartbeat and the ownership it drives, with two ProxyDHCP instances on one real
 * redis-server (instance a through a TCP proxy that can cut its path to Redis): the datagram's
 * authentication and replay protection; one instance cut from Redis defers to its peer (every client
 * answered once, by the peer), the cut healed (split again); Redis down for both (split over the
 * instances heard, one answer each); the decision table itself.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { DHCPDISCOVER } from 'pxekit/kit';
import { makeServer, randomMac, request, testBoot } from '../../test/unit/dhcp-service/helpers.js';
import { eventually } from '../../test/integration/scaleout/log-capture.js';
import { freePort, redisAvailable, startRedis } from '../../test/integration/scaleout/redis-server.js';
import { startRedisProxy } from '../../test/integration/scaleout/redis-proxy.js';
import dhcpCluster from './index.js';
import { decideOwnership } from './ownership.js';
import { open, PeerHeartbeat, seal } from './peers.js';
import { ownerOf } from './rendezvous.js';

const skip = redisAvailable();
const local = { address: '10.99.0.1', interface: 'eth0' };
const pxe = { 60: 'PXEClient:Arch:00000:UNDI:002001', 93: [0] };
const KEY = 'a-shared-test-key-0123';

test('datagrams: HMAC checked, fields checked', () => {
  const beat = { id: 'a', seq: Date.now(), redis: true, mode: 'redis' as const, members: ['a', 'b'] };
  const buf = seal(KEY, beat);
  assert.deepEqual(open(KEY, buf), beat);
  assert.equal(open('another-key-of-16-chars', buf), undefined, 'wrong key');
  const forged = Buffer.from(buf);
  forged[forged.length - 3]! ^= 1;
  assert.equal(open(KEY, forged), undefined, 'body changed after sealing');
  assert.equal(open(KEY, buf.subarray(0, 20)), undefined, 'truncated');
});

test('replayed and too-old datagrams are refused', { timeout: 10_000 }, async (t) => {
  const port = await freePort();
  const seen: string[] = [];
  const p = new PeerHeartbeat({
    id: 'me',
    key: KEY,
    port,
    bind: '127.0.0.1',
    addresses: ['127.0.0.1:9'],
    intervalMs: 10_000,
    deadAfterMs: 5000,
    maxSkewMs: 5000,
    log: pino({ level: 'silent' }),
    self: () => ({ redis: false, mode: 'fallback', members: ['me'] }),
    onChange: () => seen.push('change'),
  });
  await p.start();
  t.after(() => p.stop());
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  t.after(() => s.close());
  const send = (b: Buffer) => new Promise((r) => s.send(b, port, '127.0.0.1', r));
  const good = seal(KEY, { id: 'peer', seq: Date.now(), redis: true, mode: 'redis', members: ['me', 'peer'] });
  await send(good);
  await eventually(() => p.fresh().length === 1, 2000, 'the peer to be heard');
  await send(good); // replay
  await send(seal(KEY, { id: 'old', seq: Date.now() - 60_000, redis: true, mode: 'redis', members: [] }));
  await send(seal('wrong-key-wrong-key', { id: 'x', seq: Date.now(), redis: true, mode: 'redis', members: [] }));
  await eventually(() => p.rejected === 3, 2000, 'three refusals');
  assert.deepEqual(
    p.fresh().map((x) => x.id),
    ['peer'],
  );
});

test('the decision table', () => {
  const base = { id: 'a', peersEnabled: true, listening: false, lastRedisView: ['a', 'b'] };
  const d = (o: Partial<Parameters<typeof decideOwnership>[0]>) =>
    decideOwnership({ ...base, redisView: undefined, peers: [], ...o });
  const b = (
    redis: boolean,
    members: string[] = [],
    mode: 'redis' | 'defer' | 'fallback' = redis ? 'redis' : 'defer',
  ) => ({
    id: 'b',
    redis,
    mode,
    members,
  });
  assert.deepEqual(d({ redisView: ['a', 'b'], peers: [b(false)] }), { mode: 'redis', members: ['a'] });
  // Back on Redis first: b, still in fallback, keeps its share until it hears a and defers.
  assert.deepEqual(d({ redisView: ['a', 'b'], peers: [b(false, ['a', 'b'], 'fallback')] }), {
    mode: 'redis',
    members: ['a', 'b'],
  });
  assert.deepEqual(d({ redisView: ['a'], peers: [b(true, ['a', 'b'])] }), { mode: 'redis', members: ['a', 'b'] });
  // Joining: b, on Redis, does not count a in yet (it still answers a's clients): a waits for it.
  assert.deepEqual(d({ redisView: ['a', 'b'], peers: [b(true, ['b'])] }), {
    mode: 'redis',
    members: ['a', 'b'],
    waitingFor: 'b',
  });
  assert.deepEqual(d({ peers: [b(true)] }), { mode: 'defer', to: 'b', members: [] });
  assert.deepEqual(d({ peers: [b(false)] }), { mode: 'fallback', members: ['a', 'b'] });
  assert.deepEqual(d({ listening: true }).mode, 'defer', 'just started: listen before deciding alone');
  assert.deepEqual(d({ peersEnabled: false }), { mode: 'fallback', members: ['a', 'b'] });
});

async function instance(t: TestContext, url: string, id: string, port: number, peerPort: number) {
  const plugin = dhcpCluster({
    redis: { url, keyPrefix: 'p:', commandTimeoutMs: 300, connectTimeoutMs: 500 },
    instanceId: id,
    heartbeatMs: 200,
    deadAfterMs: 1000,
    peers: {
      key: KEY,
      port,
      bind: '127.0.0.1',
      addresses: [`127.0.0.1:${peerPort}`],
      intervalMs: 100,
      deadAfterMs: 1500,
      maxSkewMs: 30_000,
    },
  });
  const ts = makeServer(
    { dhcp: { mode: 'proxy', serverAddress: '10.99.0.1', port: 0, pxePort: 0 }, hooks: { timeoutMs: 5000 } } as never,
    [plugin, testBoot()],
  );
  await ts.server.start();
  t.after(() => ts.server.close());
  return { ...ts, plugin, id };
}

type Inst = Awaited<ReturnType<typeof instance>>;

async function answeredBy(instances: Inst[], macs: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const mac of macs) {
    const who: string[] = [];
    for (const i of instances)
      if ((await i.server.inject.dhcp(request(mac, DHCPDISCOVER, {}, pxe), { local })).length) who.push(i.id);
    out.set(mac, who);
  }
  return out;
}

test(
  'one instance cut from Redis defers to its peer; healed, they split again; Redis down for both: split',
  { skip, timeout: 60_000 },
  async (t) => {
    const redis = await startRedis(t);
    const proxy = await startRedisProxy(t, redis);
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await instance(t, proxy.url, 'inst-a', pa, pb);
    const b = await instance(t, redis.url, 'inst-b', pb, pa);
    const both = () => a.plugin.view?.members.length === 2 && b.plugin.view?.members.length === 2;
    await eventually(both, 5000, 'two members');
    const macs = Array.from({ length: 20 }, (_, i) => randomMac(300 + i));

    proxy.cut();
    await eventually(() => a.plugin.view?.mode === 'defer', 5000, 'a (cut) to defer');
    await eventually(() => b.plugin.view?.members.join() === 'inst-b', 5000, 'b to own every client');
    for (const who of (await answeredBy([a, b], macs)).values()) assert.deepEqual(who, ['inst-b']);
    assert.equal(b.plugin.view?.peers[0]?.redis, false, 'b hears that a lost Redis');

    const healedAt = Date.now();
    proxy.heal();
    await eventually(() => both() && a.plugin.view?.mode === 'redis', 5000, 'a back on Redis');
    t.diagnostic(`back ${Date.now() - healedAt} ms after the heal`);
    for (const [mac, who] of await answeredBy([a, b], macs))
      assert.deepEqual(who, [ownerOf(mac, ['inst-a', 'inst-b'])]);

    await redis.stop();
    await eventually(
      () => a.plugin.view?.mode === 'fallback' && b.plugin.view?.mode === 'fallback',
      8000,
      'both to fall back',
    );
    for (const [mac, who] of await answeredBy([a, b], macs))
      assert.deepEqual(who, [ownerOf(mac, ['inst-a', 'inst-b'])]);
    for (const i of [a, b]) {
      const warns = i.lines.filter((l) => Number(l.level) >= 40).map((l) => l.event);
      assert.ok(
        warns.every((e) => e === 'redis.down' || e === 'redis.up'),
        `${i.id}: ${warns.join(', ')}`,
      );
      assert.ok(
        i.lines.every((l) => !('err' in l)),
        'no stack trace',
      );
    }
  },
);
