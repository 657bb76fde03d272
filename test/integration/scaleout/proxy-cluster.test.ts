/**
 * Two ProxyDHCP instances (dhcp-cluster) beside a site dnsmasq on one bridge: a PXE client (udhcpc
 * with a PXEClient vendor class) gets exactly one proxy offer; the other instance logs the drop
 * ("owned by ..."). kill -9 the one that answered: within a few seconds the survivor owns every
 * client, and the next attempt is answered by it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { dnsmasqDhcpArgs } from '../../helpers/dnsmasq.js';
import { sleep, waitFor } from '../../helpers/proc.js';
import { fileLines, PXE_VENDOR, tmp, udhcpcOnce } from '../dhcp/helpers.js';
import { startInstance, startLanRedis, waitForMembers, type Instance } from './cluster-lan.js';

const skip = realnetAvailable(['busybox', 'dnsmasq', 'redis-server', 'redis-cli']);

function proxyConfig(redisUrl: string, id: string): object {
  return {
    // udhcpc takes the first offer: let the site server answer first.
    dhcp: { mode: 'proxy', replyDelayMs: 300 },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'debug' },
    plugins: ['boot-by-arch', ['dhcp-cluster', { redis: { url: redisUrl, keyPrefix: 'sp:' }, instanceId: id }]],
  };
}

test(
  'two ProxyDHCP instances: exactly one proxy offer per client; kill -9 it, the other answers',
  { skip, timeout: 180_000 },
  async (t) => {
    await withLan(t, { name: 'scprox', taps: 0 }, async (lan) => {
      const dir = tmp('scprox');
      const redis = await startLanRedis(lan, dir);
      const site = await lan.addHost('dhcp', '10.77.0.3/24');
      lan.spawnIn(site, 'dnsmasq', dnsmasqDhcpArgs({ dir, name: 'site' }));
      await lan.waitForUdpListen(site, 67, 10_000);
      const p1 = await startInstance(lan, dir, 'p1', '10.77.0.11/24', proxyConfig(redis.url, 'p1'));
      const p2 = await startInstance(lan, dir, 'p2', '10.77.0.12/24', proxyConfig(redis.url, 'p2'));
      await waitForMembers([p1, p2], 2, 15_000);

      const out = path.join(dir, 'udhcpc.out');
      const pxeClient = async () => {
        const u = await udhcpcOnce(lan, dir, out, { pxeVendor: PXE_VENDOR });
        assert.equal(u.code, 0, u.stderr);
        await sleep(1000); // the proxy offer follows the site's by replyDelayMs
      };
      const offers = (i: Instance) => i.events('dhcp.proxy.offer');
      const ctx = () =>
        [p1, p2]
          .map(
            (i) =>
              `--- ${i.name} ---\n${fileLines(i.logFile)
                .filter((l) => /dhcp\.(proxy|drop)|cluster/.test(l))
                .slice(-8)
                .join('\n')}`,
          )
          .join('\n');

      await pxeClient();
      // The offer's line is written asynchronously: give it a bounded moment past the sleep (a second offer would
      // have come with the first one, so the check below still sees it).
      await waitFor(() => offers(p1).length + offers(p2).length > 0, 10_000).catch(() => undefined);
      const [o1, o2] = [offers(p1).length, offers(p2).length];
      assert.equal(o1 + o2 >= 1 && (o1 === 0 || o2 === 0), true, `offers: p1 ${o1}, p2 ${o2}\n${ctx()}`);
      const [owner, other] = o1 > 0 ? [p1, p2] : [p2, p1];
      const mac = String(offers(owner)[0]!.mac);
      const drops = other.events('dhcp.drop').filter((l) => l.mac === mac);
      assert.ok(
        drops.length >= 1 && drops.every((l) => l.reason === `owned by ${owner.name}`),
        `the other instance dropped the client's packets as owned by ${owner.name}\n${ctx()}`,
      );
      assert.ok(
        fileLines(out).some((l) => l.startsWith('bound') && / serverid=10\.77\.0\.3 /.test(l)),
        'the address came from the site server',
      );

      const killedAt = Date.now();
      await owner.kill9();
      await waitForMembers([other], 1, 10_000);
      t.diagnostic(`${owner.name} killed; ${other.name} alone after ${Date.now() - killedAt} ms`);
      const before = offers(other).length;
      await pxeClient();
      await waitFor(() => offers(other).length > before, 10_000).catch(() => undefined); // written asynchronously
      assert.ok(offers(other).length > before, `after the kill, ${other.name} answers\n${ctx()}`);
      assert.equal(String(offers(other).at(-1)!.mac), mac);
    });
  },
);
