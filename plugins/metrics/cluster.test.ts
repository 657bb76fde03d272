/**
 * The scale-out series (cluster.ts) from a real dhcp-cluster on a real redis-server: on Redis, then
 * Redis killed (the link down, an outage counted, requests met by it counted), then back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DHCPDISCOVER } from 'pxekit/kit';
import { makeServer, randomMac, request, testBoot } from '../../test/unit/dhcp-service/helpers.js';
import { eventually } from '../../test/integration/scaleout/log-capture.js';
import { redisAvailable, startRedis } from '../../test/integration/scaleout/redis-server.js';
import dhcpCluster from 'pxekit/plugins/dhcp-cluster';
import metrics, { metricsHandles } from './index.js';

const local = { address: '10.99.0.1', interface: 'eth0' };
const pxe = { 60: 'PXEClient:Arch:00000:UNDI:002001', 93: [0] };

test('metrics: Redis link and cluster view per instance, through an outage', { skip: redisAvailable() }, async (t) => {
  const redis = await startRedis(t);
  // Listed before dhcp-cluster: the view is taken in `ready`, once every plugin has applied.
  const ts = makeServer(
    { dhcp: { mode: 'proxy', serverAddress: '10.99.0.1', port: 0, pxePort: 0 }, hooks: { timeoutMs: 5000 } } as never,
    [
      metrics(),
      dhcpCluster({
        redis: { url: redis.url, keyPrefix: 'm:', commandTimeoutMs: 300 },
        instanceId: 'solo',
        heartbeatMs: 200,
        deadAfterMs: 600,
      }),
      testBoot(),
    ],
  );
  await ts.server.start();
  t.after(() => ts.server.close());
  const registry = metricsHandles.get(ts.server)!.registry;
  const value = async (series: string) => {
    const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
  };

  assert.equal(await value('pxekit_redis_up'), 1);
  assert.equal(await value('pxekit_cluster_mode{mode="redis"}'), 1);
  assert.equal(await value('pxekit_cluster_mode{mode="fallback"}'), 0);
  assert.equal(await value('pxekit_cluster_members'), 1);
  assert.equal(await value('pxekit_redis_outages_total'), 0);

  await redis.stop();
  await eventually(async () => (await value('pxekit_redis_up')) === 0, 5000, 'the link to go down');
  // Alone and without peers: it falls back over the last view (itself) and answers its clients.
  await eventually(async () => (await value('pxekit_cluster_mode{mode="fallback"}')) === 1, 5000, 'fallback');
  assert.equal(await value('pxekit_redis_outages_total'), 1);
  const replies = await ts.server.inject.dhcp(request(randomMac(1), DHCPDISCOVER, {}, pxe), { local });
  assert.equal(replies.length, 1, 'answered in fallback');

  await redis.start();
  await eventually(async () => (await value('pxekit_cluster_mode{mode="redis"}')) === 1, 10_000, 'back on Redis');
  assert.equal(await value('pxekit_redis_up'), 1);
  assert.equal(await value('pxekit_redis_outages_total'), 1);
  assert.ok((await value('pxekit_redis_down_seconds_total')) > 0);
  assert.equal(await value('pxekit_cluster_peers{redis="true"}'), 0);
});
