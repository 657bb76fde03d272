/**
 * Redis stopped mid-run under two full-mode instances (lease-redis + dhcp-cluster) on one bridge:
 * both report it once; a known set of clients (perfdhcp with a fixed base MAC) still completes its
 * exchanges; new clients get nothing; Redis restarted (AOF): both report recovery, write back what
 * they granted meanwhile, new clients are served again, and no address was ever ACKed to two MACs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realnetAvailable, withLan, type Lan } from '../../helpers/realnet.js';
import { sleep } from '../../helpers/proc.js';
import { tmp } from '../dhcp/helpers.js';
import { FULL_PREFIX, fullConfig, leaseRecords, startInstance, startLanRedis, waitForMembers } from './cluster-lan.js';
import { ackedPairs, perfdhcp4 } from './cluster-clients.js';

const skip = realnetAvailable(['perfdhcp', 'redis-server', 'redis-cli']);

/** perfdhcp draws its MACs from `clients` addresses above the base MAC: one base per population. */
const perf = (lan: Lan, population: 'aa' | 'bb', clients: number) =>
  perfdhcp4(lan, 50, clients, 4, ['-b', `mac=00:0c:${population}:00:00:00`]);

test(
  'Redis stopped mid-run: reported once, known clients served, new ones refused; restarted: converge',
  { skip, timeout: 180_000 },
  async (t) => {
    await withLan(t, { name: 'scout', taps: 0, srvIp: '10.77.0.1/16', cliIp: '10.77.0.2/16' }, async (lan) => {
      const dir = tmp('scout');
      const redis = await startLanRedis(lan, dir, { aof: true });
      const a = await startInstance(lan, dir, 'a', '10.77.0.11/16', fullConfig(redis.url, '10.77.0.11', 'a'));
      const b = await startInstance(lan, dir, 'b', '10.77.0.12/16', fullConfig(redis.url, '10.77.0.12', 'b'));
      await waitForMembers([a, b], 2, 15_000);

      const known = await perf(lan, 'aa', 100);
      assert.ok(known.acks >= 0.95 * known.discovers, `before the outage: ${known.acks}/${known.discovers}`);

      await redis.stop();
      for (const i of [a, b]) {
        await until(() => i.events('redis.down').length > 0, 10_000, `${i.name} to report the outage`);
      }
      const again = await perf(lan, 'aa', 100);
      t.diagnostic(`outage, known clients: ${again.acks}/${again.discovers}`);
      assert.ok(
        again.acks >= 0.9 * again.discovers,
        `known clients during the outage: ${again.acks}/${again.discovers}`,
      );
      const fresh = await perf(lan, 'bb', 100);
      t.diagnostic(`outage, new clients: ${fresh.acks}/${fresh.discovers}`);
      assert.equal(fresh.acks, 0, 'no new client gets an address while Redis is down');
      for (const i of [a, b]) {
        // One report per connection (lease-redis and dhcp-cluster each hold one), not one per packet.
        const downs = i.events('redis.down');
        assert.ok(
          downs.length <= 2 && downs.every((l) => l.code === 'PXE_ERR_REDIS'),
          `${i.name}: ${downs.length} redis.down lines`,
        );
        assert.ok(i.events('dhcp.drop').length === 0, 'drops are debug lines (not at info level)');
      }

      await redis.start();
      await until(
        () => a.events('lease-redis.writeback.done').length + b.events('lease-redis.writeback.done').length > 0,
        15_000,
        'a write-back',
      );
      await waitForMembers([a, b], 2, 15_000);
      const after = await perf(lan, 'bb', 100);
      t.diagnostic(`after the outage, new clients: ${after.acks}/${after.discovers}`);
      assert.ok(after.acks >= 0.9 * after.discovers, `after the outage: ${after.acks}/${after.discovers}`);

      const acked = ackedPairs([a, b]).size;
      const records = await leaseRecords(redis.cli, FULL_PREFIX);
      const byMac = new Map<string, string>();
      for (const [ip, r] of records) {
        if (!r.mac) continue;
        assert.equal(byMac.get(r.mac), undefined, `${r.mac} holds two addresses`);
        byMac.set(r.mac, ip);
      }
      assert.ok(acked >= 150 && records.size >= 150, `${acked} addresses ACKed, ${records.size} in Redis`);
    });
  },
);

async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
