/**
 * A relayed DHCPv6 client: ISC dhclient -6 in a namespace of its own whose only link goes to a relay
 * namespace running ISC dhcrelay -6 (`-l fd75::1%down0 -u fd76::1%eth0`), pxekit on the lab LAN behind
 * it. The client gets an address from the pool of the relay's link (fd75::/64, chosen by the relay's
 * link-address), pxekit logs it as relayed with the client's MAC, and a Release through the relay frees
 * the binding in the lease-file store. Needs root, dhclient and dhcrelay (isc-dhcp-relay); skips otherwise.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../helpers/proc.js';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { fileLines, startPxekit, tmp, until } from '../dhcp/helpers.js';
import { dhclient6Script, dhclientArgs, fullConfig, noTentative, SERVER6, v6Leases } from './helpers6.js';

const skip = realnetAvailable(['dhclient', 'dhcrelay']);
/** The client's own namespace (not on the lab bridge, so only relayed messages reach pxekit). */
const CLIENT_NS = 'd6rly-far';
const CLIENT_MAC = '52:54:00:d6:75:01';

test(
  'dhclient -6 through dhcrelay -6: address from the relay link pool, Release through the relay',
  {
    skip,
    timeout: 120_000,
  },
  async (t) => {
    await withLan(t, { name: 'd6rly', ipv6: true, taps: 0 }, async (lan) => {
      const sh = async (...args: string[]) => {
        const r = await run('ip', args, { timeoutMs: 10_000 });
        assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
      };
      t.after(() => run('ip', ['netns', 'del', CLIENT_NS], { timeoutMs: 10_000 }));
      await run('ip', ['netns', 'del', CLIENT_NS], { timeoutMs: 10_000 }); // a leftover of a killed run
      const relay = await lan.addHost('relay', '10.77.0.3/24');
      await sh('netns', 'add', CLIENT_NS);
      await sh('-n', CLIENT_NS, 'link', 'set', 'lo', 'up');
      await sh('-n', relay, 'link', 'add', 'down0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CLIENT_NS);
      await sh('-n', CLIENT_NS, 'link', 'set', 'eth0', 'address', CLIENT_MAC);
      for (const [ns, dev] of [
        [relay, 'down0'],
        [CLIENT_NS, 'eth0'],
      ] as const) {
        await sh(
          'netns',
          'exec',
          ns,
          'sysctl',
          '-qw',
          'net.ipv6.conf.all.disable_ipv6=0',
          `net.ipv6.conf.${dev}.accept_dad=0`,
        );
        await sh('-n', ns, 'link', 'set', dev, 'up');
      }
      await sh('-n', lan.srvNs, '-6', 'addr', 'add', `${SERVER6}/64`, 'dev', 'eth0', 'nodad');
      await sh('-n', relay, '-6', 'addr', 'add', 'fd76::3/64', 'dev', 'eth0', 'nodad');
      await sh('-n', relay, '-6', 'addr', 'add', 'fd75::1/64', 'dev', 'down0', 'nodad');
      for (const ns of [lan.srvNs, relay, CLIENT_NS]) await noTentative(lan, ns);

      const dir = tmp('d6rly');
      const leaseFile = path.join(dir, 'leases.log');
      const pxe = await startPxekit(lan, dir, fullConfig({ leaseFile, relayPrefix: 'fd75::/64' }), 547);
      const dhcrelay = lan.spawnIn(relay, 'dhcrelay', [
        '-6',
        '-d',
        '--no-pid',
        '-l',
        'fd75::1%down0',
        '-u',
        `${SERVER6}%eth0`,
      ]);
      await lan.waitForUdpListen(relay, 547, 10_000);

      const out = path.join(dir, 'dhclient6.out');
      const args = dhclientArgs(dir, dhclient6Script(dir, out));
      const ctx = () =>
        `--- dhcrelay ---\n${dhcrelay.output().slice(-1500)}\n--- dhclient ---\n${fileLines(out).join('\n')}\n` +
        `--- pxekit ---\n${fileLines(pxe.logFile).slice(-20).join('\n')}`;
      const client = lan.spawnIn(CLIENT_NS, 'dhclient', args('-d'));
      const bound = await until(
        () => fileLines(out).find((l) => l.startsWith('BOUND6 ')),
        40_000,
        'relayed client bound',
        () => `${client.output()}\n${ctx()}`,
      );
      const address = bound.split(' ')[1]!;
      assert.match(address, /^fd75::1[0-9a-f]{2}$/, `address from the relay link's pool: ${bound}`);

      // dhclient has its Reply: pxekit's line for it (written asynchronously) may still be on its way.
      const reply = await until(
        () => pxe.events('dhcp6.reply').find((l) => (l.addresses as string[] | undefined)?.includes(address)),
        10_000,
        `the dhcp6.reply for ${address}`,
        ctx,
      );
      assert.equal(reply.relayed, true);
      assert.equal(reply.mac, CLIENT_MAC, `MAC through the relay (${String(reply.macSource)})`);
      const [lease] = v6Leases(leaseFile);
      assert.deepEqual([lease?.ip, lease?.state, lease?.subnet], [address, 'bound', 'fd75::/64']);

      const rel = await lan.execIn(CLIENT_NS, 'dhclient', args('-r'), { timeoutMs: 30_000 });
      assert.equal(rel.code, 0, `dhclient -r: ${rel.stderr}`);
      await until(
        () => v6Leases(leaseFile)[0]?.state === 'released',
        15_000,
        'binding released through the relay',
        ctx,
      );
      // The record is in the file once written; pxekit logs the Release after its fdatasync, a moment later.
      await until(
        () => pxe.lines().some((l) => l.dhcp6 === 'RELEASE' && l.relayed === true),
        5_000,
        'the Release came relayed',
        ctx,
      );
      await client.exitPromise;
      await pxe.stop();
    });
  },
);
