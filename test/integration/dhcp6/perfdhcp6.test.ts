/**
 * perfdhcp -6 (Kea) against pxekit's DHCPv6 server in full mode with the lease-file store: thousands of
 * Solicit/Advertise + Request/Reply exchanges from as many DUIDs on the lab LAN, then no address bound to
 * two clients — checked on pxekit's Reply log lines and on the store's records (the run is shorter than
 * the valid lifetime, so every binding is live). Needs root and perfdhcp; skips otherwise.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { fileLines, startPxekit, tmp, until } from '../dhcp/helpers.js';
import { fullConfig, noTentative, SERVER6, v6Leases } from './helpers6.js';

const skip = realnetAvailable(['perfdhcp']);

test('perfdhcp -6: thousands of exchanges, no address given twice', { skip, timeout: 180_000 }, async (t) => {
  await withLan(t, { name: 'd6perf', ipv6: true, taps: 0 }, async (lan) => {
    const dir = tmp('d6perf');
    const leaseFile = path.join(dir, 'leases.log');
    const r = await lan.execIn(lan.srvNs, 'ip', ['-6', 'addr', 'add', `${SERVER6}/64`, 'dev', 'eth0', 'nodad'], {
      timeoutMs: 10_000,
    });
    assert.equal(r.code, 0, r.stderr);
    await noTentative(lan, lan.srvNs);
    await noTentative(lan, lan.cliNs);
    const config = fullConfig({ leaseFile });
    config.dhcp6.pools[0]!.range = ['fd76::1:0', 'fd76::1:ffff'];
    config.dhcp6.pools[0]!.validLifetime = 3600;
    config.dhcp6.pools[0]!.preferredLifetime = 1800;
    config.log.level = 'info';
    const pxe = await startPxekit(lan, dir, config, 547);

    // PXEKIT_PERFDHCP_RATE raises the rate for a quick look (the benchmark proper is bench/).
    const rate = process.env.PXEKIT_PERFDHCP_RATE ?? '300';
    const perf = await lan.execIn(lan.cliNs, 'perfdhcp', ['-6', '-l', 'eth0', '-r', rate, '-R', '4000', '-p', '10'], {
      timeoutMs: 60_000,
    });
    const stats = perf.stdout;
    t.diagnostic(`perfdhcp -6: ${stats.replace(/\n+/g, ' | ').slice(0, 700)}`);
    const received = [...stats.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]));
    // Exchange 1 is Solicit-Advertise, exchange 2 Request-Reply.
    assert.ok(received.length >= 2, `no statistics from perfdhcp (code ${perf.code}):\n${stats}\n${perf.stderr}`);
    const replies = received[1]!;
    assert.ok(replies >= 1000, `only ${replies} Replies received by perfdhcp\n${stats}`);

    // pxekit's log: every address bound by a Reply belongs to one client (DUID). perfdhcp has its last Replies:
    // pxekit's lines for them (written asynchronously) may still be on their way.
    const logged = () =>
      pxe.events('dhcp6.reply').reduce((n, l) => n + ((l.addresses as string[] | undefined)?.length ?? 0), 0);
    await until(
      () => logged() >= replies,
      10_000,
      `pxekit to log bindings for the ${replies} Replies perfdhcp received`,
      () => `pxekit logged ${logged()} bindings`,
    );
    const owner = new Map<string, string>();
    let bindings = 0;
    for (const l of pxe.events('dhcp6.reply')) {
      for (const ip of (l.addresses as string[] | undefined) ?? []) {
        bindings++;
        const prev = owner.get(ip);
        assert.ok(prev === undefined || prev === l.duid, `${ip} bound to ${prev} and ${String(l.duid)}`);
        owner.set(ip, String(l.duid));
        assert.match(ip, /^fd76::1:[0-9a-f]{1,4}$/, `${ip} from the pool`);
      }
    }
    assert.ok(bindings >= replies, `pxekit logged ${bindings} bindings, perfdhcp received ${replies} Replies`);

    await pxe.stop(); // the store's log is complete once pxekit has closed it
    const byIp = new Map<string, string[]>();
    for (const l of v6Leases(leaseFile).filter((x) => x.state === 'bound'))
      byIp.set(l.ip, [...(byIp.get(l.ip) ?? []), l.mac]);
    const twice = [...byIp].filter(([, keys]) => keys.length > 1);
    assert.deepEqual(twice, [], 'no address held by two bindings in the store');
    assert.ok(byIp.size >= replies, `store holds ${byIp.size} bound addresses for ${replies} Replies`);
    assert.equal(fileLines(pxe.logFile).filter((l) => /"level":50/.test(l)).length, 0, 'no errors logged');
  });
});
