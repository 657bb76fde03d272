/**
 * Three pxekit instances in full mode on one bridge, sharing leases through lease-redis and
 * splitting clients with dhcp-cluster; perfdhcp (broadcast, like real clients) through them
 * together. No address is ever ACKed to two MACs (all three JSON logs, and Redis at the end);
 * kill -9 of one instance mid-run: the other two keep answering, and after the dead one ages out
 * they answer its clients too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../helpers/proc.js';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { tmp } from '../dhcp/helpers.js';
import {
  FULL_PREFIX,
  fullConfig,
  leaseRecords,
  startInstance,
  startLanRedis,
  waitForMembers,
  type Instance,
} from './cluster-lan.js';
import { ackedPairs, perfdhcp4 } from './cluster-clients.js';

const skip = realnetAvailable(['perfdhcp', 'redis-server', 'redis-cli']);

test(
  'three full-mode instances on lease-redis: perfdhcp through them, no duplicate, kill -9 one mid-run',
  { skip, timeout: 240_000 },
  async (t) => {
    await withLan(t, { name: 'scfull', taps: 0, srvIp: '10.77.0.1/16', cliIp: '10.77.0.2/16' }, async (lan) => {
      const dir = tmp('scfull');
      const redis = await startLanRedis(lan, dir);
      const ips = ['10.77.0.11', '10.77.0.12', '10.77.0.13'];
      const instances: Instance[] = [];
      for (const [k, ip] of ips.entries()) {
        const name = `i${k + 1}`;
        instances.push(await startInstance(lan, dir, name, `${ip}/16`, fullConfig(redis.url, ip, name)));
      }
      await waitForMembers(instances, 3, 20_000);

      const first = await perfdhcp4(lan, 150, 1500, 8);
      t.diagnostic(`3 instances: ${first.rate}/s, ${first.acks}/${first.discovers} ACKed`);
      assert.ok(
        first.acks >= 0.9 * first.discovers,
        `only ${first.acks} of ${first.discovers} exchanges completed\n${first.raw.slice(-1500)}`,
      );
      // Every exchange (xid) was answered by one instance only. perfdhcp has just ended: the instances' last lines
      // (written asynchronously) may still be on their way, so wait (bounded) for an offer per ACK it received.
      const offerXids = () => new Set(instances.flatMap((i) => i.events('dhcp.offer').map((l) => String(l.xid)))).size;
      await waitFor(() => offerXids() >= first.acks, 10_000).catch(() => undefined);
      const offersByXid = new Map<string, string[]>();
      for (const i of instances)
        for (const l of i.events('dhcp.offer'))
          offersByXid.set(String(l.xid), [...(offersByXid.get(String(l.xid)) ?? []), i.name]);
      const doubled = [...offersByXid].filter(([, who]) => who.length > 1);
      assert.deepEqual(doubled.slice(0, 5), [], `${doubled.length} DISCOVERs answered by two instances`);
      assert.ok(offersByXid.size >= first.acks);
      const perInstance = instances.map((i) => i.events('dhcp.ack').length);
      t.diagnostic(`ACKs per instance: ${perInstance.join(', ')}`);
      assert.ok(
        perInstance.every((n) => n > 0.15 * first.acks),
        `clients are split over the instances: ${perInstance.join(', ')}`,
      );

      // kill -9 the third instance 3 s into a run: the other two keep answering throughout.
      const running = perfdhcp4(lan, 150, 3000, 10);
      await new Promise((r) => setTimeout(r, 3000));
      const [a, b, c] = instances as [Instance, Instance, Instance];
      const before = a.events('dhcp.ack').length + b.events('dhcp.ack').length;
      await c.kill9();
      const during = await running;
      const after = a.events('dhcp.ack').length + b.events('dhcp.ack').length;
      t.diagnostic(
        `run with kill -9: ${during.acks}/${during.discovers} ACKed; survivors ACKed ${after - before} after the kill`,
      );
      assert.ok(after - before > 200, `the survivors kept answering (${after - before} ACKs after the kill)`);
      await waitForMembers([a, b], 2, 10_000);

      // The dead instance aged out: its clients hash to the survivors, every exchange completes.
      const last = await perfdhcp4(lan, 100, 1500, 5);
      t.diagnostic(`2 survivors: ${last.acks}/${last.discovers} ACKed`);
      assert.ok(
        last.acks >= 0.9 * last.discovers,
        `after the failover only ${last.acks} of ${last.discovers} completed`,
      );

      const acked = ackedPairs(instances);
      const records = await leaseRecords(redis.cli, FULL_PREFIX);
      assert.ok(acked.size > 1000, `${acked.size} addresses ACKed`);
      const macs = new Map<string, string>();
      for (const [ip, rec] of records) {
        if (!rec.mac) continue;
        const prev = macs.get(rec.mac);
        assert.equal(prev, undefined, `${rec.mac} holds ${prev} and ${ip} in Redis`);
        macs.set(rec.mac, ip);
      }
      let bound = 0;
      for (const [ip, mac] of acked) {
        const rec = records.get(ip);
        // A client perfdhcp re-used in a later run may have moved; otherwise Redis holds what was ACKed.
        if (rec?.mac === mac && rec.state === 'bound') bound++;
      }
      t.diagnostic(`Redis: ${records.size} records, ${bound} of ${acked.size} ACKed leases bound as ACKed`);
      assert.ok(bound >= 0.95 * acked.size, `only ${bound} of ${acked.size} ACKed leases are in Redis as ACKed`);
      const errors = instances.flatMap((i) =>
        i
          .lines()
          .filter((l) => (l.level as number) >= 50)
          .map((l) => `${i.name}: ${String(l.event)} ${String(l.msg)}`),
      );
      assert.deepEqual(errors, [], 'no error lines');
    });
  },
);
