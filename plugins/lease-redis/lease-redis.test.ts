/**
 * The Redis lease store against a real redis-server: the compare-and-set under concurrency (two
 * instances), the same rules as the memory store, expiry by Redis itself, and an outage (known
 * clients renewed from the cache, new ones refused, write-back on recovery, conflicts detected).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { RedisLink, resolveRedisOptions } from 'pxekit/kit';
import { captureLog, eventually, type CapturedLog } from '../../test/integration/scaleout/log-capture.js';
import { redisAvailable, startRedis, type TestRedis } from '../../test/integration/scaleout/redis-server.js';
import { RedisLeaseStore } from './store.js';

const skip = redisAvailable();
const SUBNET = '10.99.0.0/24';
const mac = (i: number) =>
  `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

async function instance(
  t: TestContext,
  redis: TestRedis,
  opts: { retainMs?: number; prefix?: string; capture?: CapturedLog } = {},
) {
  const cap = opts.capture ?? captureLog();
  const link = new RedisLink({
    redis: resolveRedisOptions({ url: redis.url, keyPrefix: opts.prefix ?? 't:' }),
    log: cap.log,
    user: 'lease-redis',
  });
  const store = new RedisLeaseStore({ link, log: cap.log, retainMs: opts.retainMs ?? 60_000, maxCached: 1000 });
  await link.start();
  await store.load();
  t.after(() => link.close());
  return { link, store, cap };
}

test('two instances, 200 concurrent offers of one address: exactly one wins', { skip, timeout: 30_000 }, async (t) => {
  const redis = await startRedis(t);
  const a = await instance(t, redis);
  const b = await instance(t, redis);
  const now = Date.now();
  const tries = Array.from({ length: 200 }, (_, i) =>
    (i % 2 ? a : b).store.offer({ ip: '10.99.0.10', mac: mac(i), expiresAt: now + 30_000, subnet: SUBNET }, now),
  );
  const results = await Promise.all(tries);
  const winners = results.filter((r) => r !== undefined);
  assert.equal(winners.length, 1, `winners: ${winners.map((w) => w!.mac).join(', ')}`);
  const stored = await redis.client().hgetall('t:lease:ip:10.99.0.10');
  assert.equal(stored.mac, winners[0]!.mac);
  assert.equal(stored.state, 'offered');
});

test(
  'two instances allocating many addresses at once never hand one out twice',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await instance(t, redis);
    const b = await instance(t, redis);
    const now = Date.now();
    // 100 clients each try the same 50 addresses in the same order from both instances.
    const owners = new Map<string, string>();
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const s = (i % 2 ? a : b).store;
        for (let k = 0; k < 50; k++) {
          const ip = `10.99.0.${100 + k}`;
          const got = await s.commit({ ip, mac: mac(i), expiresAt: now + 60_000, subnet: SUBNET }, now);
          if (got) {
            assert.equal(owners.get(ip), undefined, `${ip} committed twice`);
            owners.set(ip, got.mac);
            return;
          }
        }
      }),
    );
    assert.equal(owners.size, 50);
    const all = await a.store.list();
    assert.equal(all.length, 50);
    assert.equal(new Set(all.map((l) => l.mac)).size, 50, 'one address per client');
  },
);

test(
  'same rules as the memory store: re-offer, bound kept, one address per MAC, release, decline',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const { store } = await instance(t, redis);
    const now = Date.now();
    const m1 = mac(1);
    const m2 = mac(2);
    assert.ok(
      await store.offer({ ip: '10.99.0.5', mac: m1, expiresAt: now + 30_000, subnet: SUBNET, hostname: 'h1' }, now),
    );
    assert.equal(
      await store.offer({ ip: '10.99.0.5', mac: m2, expiresAt: now + 30_000, subnet: SUBNET }, now),
      undefined,
      'held by m1',
    );
    const bound = await store.commit({ ip: '10.99.0.5', mac: m1, expiresAt: now + 3_600_000, subnet: SUBNET }, now);
    assert.equal(bound?.state, 'bound');
    const reoffer = await store.offer(
      { ip: '10.99.0.5', mac: m1, expiresAt: now + 30_000, subnet: SUBNET },
      now + 1000,
    );
    assert.equal(reoffer?.state, 'bound', 'a re-offer keeps the lease bound');
    assert.equal(reoffer?.expiresAt, now + 3_600_000, 'and does not shorten it');
    // The client moves: its old record goes.
    assert.ok(await store.commit({ ip: '10.99.0.6', mac: m1, expiresAt: now + 3_600_000, subnet: SUBNET }, now + 2000));
    assert.equal(await store.getByIp('10.99.0.5'), undefined);
    assert.equal((await store.get(m1))?.ip, '10.99.0.6');
    // Release: only by the holder; the record stays (released) so the client can come back.
    assert.equal(await store.release(m2, '10.99.0.6', now + 3000), false);
    assert.equal(await store.release(m1, '10.99.0.6', now + 3000), true);
    const released = await store.get(m1);
    assert.equal(released?.state, 'released');
    assert.equal(released?.expiresAt, now + 3000);
    assert.ok(
      await store.offer({ ip: '10.99.0.6', mac: m2, expiresAt: now + 30_000, subnet: SUBNET }, now + 4000),
      'released = free for others',
    );
    // Decline: quarantined for everyone, the owner loses its record.
    await store.decline('10.99.0.6', now + 600_000, SUBNET, now + 5000);
    assert.equal(await store.get(m2), undefined);
    assert.equal((await store.getByIp('10.99.0.6'))?.state, 'declined');
    assert.equal(
      await store.offer({ ip: '10.99.0.6', mac: m2, expiresAt: now + 30_000, subnet: SUBNET }, now + 6000),
      undefined,
      'declined = nobody, not even the old owner',
    );
    assert.ok(
      await store.offer({ ip: '10.99.0.6', mac: m2, expiresAt: now + 700_000, subnet: SUBNET }, now + 600_001),
      'free after the quarantine',
    );
  },
);

test(
  'expiry needs no sweeper: an expired hold is free, and Redis deletes it after retainMs',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const { store } = await instance(t, redis, { retainMs: 300 });
    const now = Date.now();
    assert.ok(await store.offer({ ip: '10.99.0.7', mac: mac(1), expiresAt: now + 200, subnet: SUBNET }, now));
    assert.equal(
      await store.offer({ ip: '10.99.0.7', mac: mac(2), expiresAt: now + 30_000, subnet: SUBNET }, now + 100),
      undefined,
    );
    // Logically free once expired, even though the record is still there (retained).
    const late = now + 250;
    assert.equal((await store.getByIp('10.99.0.7'))?.mac, mac(1));
    assert.ok(await store.offer({ ip: '10.99.0.7', mac: mac(2), expiresAt: late + 200, subnet: SUBNET }, late));
    const c = redis.client();
    assert.ok((await c.pttl('t:lease:ip:10.99.0.7')) > 0, 'keys carry an expiry');
    await eventually(
      async () => (await c.exists('t:lease:ip:10.99.0.7', `t:lease:mac:${mac(2)}`)) === 0,
      5000,
      'Redis to expire both keys',
    );
  },
);

test(
  'outage: reported once, known clients renewed, new ones refused, written back on recovery',
  { skip, timeout: 60_000 },
  async (t) => {
    const redis = await startRedis(t, { aof: true });
    const { store, cap, link } = await instance(t, redis);
    const now = Date.now();
    const known = { ip: '10.99.0.20', mac: mac(20), expiresAt: now + 600_000, subnet: SUBNET };
    assert.ok(await store.commit(known, now));

    await redis.stop();
    await eventually(() => !link.up, 5000, 'the link to notice');
    // Many failing operations, one report.
    const renewed = await store.commit({ ...known, expiresAt: now + 1_200_000 }, now + 1000);
    assert.equal(renewed?.state, 'bound');
    assert.equal((await store.get(known.mac))?.ip, known.ip, 'reads come from the cache');
    await assert.rejects(
      store.offer({ ip: '10.99.0.21', mac: mac(21), expiresAt: now + 30_000, subnet: SUBNET }, now + 1000),
      { code: 'PXE_ERR_REDIS' },
    );
    await assert.rejects(
      store.commit({ ip: '10.99.0.20', mac: mac(21), expiresAt: now + 30_000, subnet: SUBNET }, now + 1000),
      { code: 'PXE_ERR_REDIS' },
    );
    for (let i = 0; i < 5; i++) await store.get(mac(30 + i));
    assert.equal(cap.events('redis.down').length, 1, 'one report per episode');
    assert.equal(cap.events('redis.down')[0]!.code, 'PXE_ERR_REDIS');
    assert.equal(store.pendingWrites, 1);

    await redis.start();
    await eventually(() => cap.events('lease-redis.writeback.done').length === 1, 10_000, 'write-back after recovery');
    assert.equal(cap.events('redis.up').length, 1);
    assert.equal(store.pendingWrites, 0);
    const rec = await redis.client().hgetall(`t:lease:ip:${known.ip}`);
    assert.equal(rec.mac, known.mac);
    assert.equal(Number(rec.expiresAt), now + 1_200_000, 'the renewal made during the outage is in Redis');
    assert.ok(
      await store.offer({ ip: '10.99.0.21', mac: mac(21), expiresAt: Date.now() + 30_000, subnet: SUBNET }, Date.now()),
      'new clients served again',
    );
  },
);

test(
  'outage write-back loses to a newer holder: conflict reported, the cache forgets',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const { store, cap, link } = await instance(t, redis);
    const now = Date.now();
    const lease = { ip: '10.99.0.40', mac: mac(40), expiresAt: now + 600_000, subnet: SUBNET };
    assert.ok(await store.commit(lease, now));
    link.markDown('test partition');
    assert.ok(await store.commit({ ...lease, expiresAt: now + 900_000 }, now + 10));
    // Meanwhile another instance (still on Redis) gave the address to someone else.
    await redis
      .client()
      .hset('t:lease:ip:10.99.0.40', 'mac', mac(41), 'state', 'bound', 'expiresAt', String(now + 900_000));
    await eventually(
      () => cap.events('lease-redis.writeback.done').length === 1,
      10_000,
      'the probe to notice Redis and write back',
    );
    assert.equal(cap.events('lease-redis.conflict').length, 1);
    assert.equal(cap.events('lease-redis.conflict')[0]!.holder, mac(41));
    assert.equal((await redis.client().hgetall('t:lease:ip:10.99.0.40')).mac, mac(41), 'the other holder keeps it');
    assert.equal(store.cache.byIp('10.99.0.40')?.mac ?? '', '', 'our stale record is dropped');
  },
);

test(
  'Redis restarted empty (no persistence): live leases this instance knows are written back',
  { skip, timeout: 30_000 },
  async (t) => {
    const redis = await startRedis(t);
    const a = await instance(t, redis);
    const now = Date.now();
    const live = { ip: '10.99.0.50', mac: mac(50), expiresAt: now + 600_000, subnet: SUBNET };
    assert.ok(await a.store.commit(live, now));
    assert.ok(
      await a.store.offer({ ip: '10.99.0.51', mac: mac(51), expiresAt: now + 1, subnet: SUBNET }, now),
      'a hold about to expire',
    );
    await redis.stop();
    await redis.start();
    await eventually(() => a.cap.events('lease-redis.reasserted').length === 1, 10_000, 'the re-assertion');
    assert.equal(a.cap.events('lease-redis.reasserted')[0]!.written, 1, 'only the live lease');
    const b = await instance(t, redis);
    assert.equal(
      await b.store.offer({ ip: live.ip, mac: mac(52), expiresAt: Date.now() + 30_000, subnet: SUBNET }, Date.now()),
      undefined,
      'another instance cannot take it',
    );
    assert.equal((await b.store.get(live.mac))?.ip, live.ip);
  },
);
