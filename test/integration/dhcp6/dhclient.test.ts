/**
 * ISC dhclient -6 against pxekit's DHCPv6 server in full mode, on the real ports 546/547 of a lab LAN
 * where radvd sends the M flag: Solicit → Advertise → Request → Reply gives an address from the pool,
 * Renew at T1 (30 s: preferred lifetime 60 s) extends it, `dhclient -6 -r` releases it, and a new client
 * run gets the same address back. After every step the lease-file store's record is checked.
 * Needs root, dhclient and radvd; skips otherwise.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { fileLines, startPxekit, tmp, until } from '../dhcp/helpers.js';
import { dhclient6Script, dhclientArgs, fullConfig, lan6, noTentative, v6Leases } from './helpers6.js';

const skip = realnetAvailable(['dhclient', 'radvd']);
const inPool = /^fd76::1[0-9a-f]{2}$/;

test('dhclient -6: address, Renew at T1, Release, the same address again', { skip, timeout: 240_000 }, async (t) => {
  await withLan(t, lan6('d6cli'), async (lan) => {
    const dir = tmp('d6cli');
    const leaseFile = path.join(dir, 'leases.log');
    await noTentative(lan, lan.cliNs);
    await noTentative(lan, lan.srvNs);
    const mac = (
      await lan.execIn(lan.cliNs, 'cat', ['/sys/class/net/eth0/address'], { timeoutMs: 5_000 })
    ).stdout.trim();
    const pxe = await startPxekit(lan, dir, fullConfig({ leaseFile }), 547);
    const out = path.join(dir, 'dhclient6.out');
    const args = dhclientArgs(dir, dhclient6Script(dir, out));
    const ctx = () =>
      `--- dhclient ---\n${fileLines(out).join('\n')}\n--- pxekit ---\n${fileLines(pxe.logFile).slice(-25).join('\n')}`;
    const lines = (reason: string) => fileLines(out).filter((l) => l.startsWith(`${reason} `));

    // 1. Solicit → Advertise → Request → Reply.
    const client = lan.spawnIn(lan.cliNs, 'dhclient', args('-d'));
    const bound = await until(
      () => lines('BOUND6')[0],
      30_000,
      'dhclient BOUND6',
      () => `${client.output()}\n${ctx()}`,
    );
    const [, address, preferred, valid] = bound.split(' ');
    assert.match(address!, inPool, bound);
    assert.deepEqual([preferred, valid], ['60', '120'], 'lifetimes from the pool');
    const onLink = await lan.execIn(lan.cliNs, '/usr/sbin/ip', ['-6', 'addr', 'show', 'dev', 'eth0'], {
      timeoutMs: 5_000,
    });
    assert.match(onLink.stdout, new RegExp(`inet6 ${address}/128`), 'the address is on the client interface');
    let [lease] = v6Leases(leaseFile);
    assert.ok(lease, `no v6 binding in the store\n${ctx()}`);
    assert.equal(lease.ip, address);
    assert.equal(lease.state, 'bound');
    assert.match(lease.mac, /^v6:[0-9a-f]+:[0-9a-f]{8}$/, 'key v6:<duid>:<iaid>');
    const firstExpiry = lease.expiresAt;
    assert.ok(Math.abs(firstExpiry - (Date.now() + 120_000)) < 15_000, 'expires a valid lifetime from now');
    // dhclient has its Reply: pxekit's line for it (written asynchronously) may still be on its way.
    const reply = await until(
      () => pxe.events('dhcp6.reply').find((l) => (l.addresses as string[] | undefined)?.includes(address!)),
      10_000,
      `the dhcp6.reply log line for ${address}`,
      ctx,
    );
    assert.equal(reply.mac, mac, `the client's MAC is known (${String(reply.macSource)})`);

    // 2. Renew at T1 = 30 s: same address, binding extended.
    const renew = await until(
      () => lines('RENEW6')[0],
      50_000,
      'dhclient RENEW6',
      () => `${client.output()}\n${ctx()}`,
    );
    assert.equal(renew.split(' ')[1], address, 'Renew keeps the address');
    [lease] = v6Leases(leaseFile);
    assert.equal(lease!.state, 'bound');
    assert.ok(
      lease!.expiresAt > firstExpiry + 20_000,
      `Renew extended the binding (${firstExpiry} → ${lease!.expiresAt})`,
    );
    await until(
      () => pxe.lines().some((l) => l.event === 'dhcp6.reply' && l.dhcp6 === 'RENEW'),
      10_000,
      'a Reply to a Renew logged',
      ctx,
    );

    // 3. Release (dhclient -r stops the running client and sends Release).
    const rel = await lan.execIn(lan.cliNs, 'dhclient', args('-r'), { timeoutMs: 30_000 });
    assert.equal(rel.code, 0, `dhclient -r: ${rel.stderr}`);
    await until(() => v6Leases(leaseFile)[0]?.state === 'released', 10_000, 'binding released', ctx);
    await client.exitPromise;

    // 4. A new run of the client (same DUID and IAID from its lease file) gets the same address back.
    const again = lan.spawnIn(lan.cliNs, 'dhclient', args('-d'));
    const rebound = await until(
      () => lines('BOUND6')[1] ?? lines('REBOOT6')[0],
      30_000,
      'dhclient bound again',
      () => `${again.output()}\n${ctx()}`,
    );
    assert.equal(rebound.split(' ')[1], address, rebound);
    const all = v6Leases(leaseFile);
    assert.equal(all.length, 1, 'one binding for the one IA');
    assert.equal(all[0]!.state, 'bound');
    await again.stop(3_000);
    await pxe.stop();
  });
});
