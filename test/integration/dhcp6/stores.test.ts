/**
 * DHCPv6 bindings in the durable stores survive a pxekit restart, with real clients: dhclient -6 binds
 * an address, pxekit is stopped and started again on the same store, and a second client (another MAC,
 * DUID and IAID) must get a different address — a server that forgot the first binding would hand out
 * the same first free address again. The store is the lease-file log, then a redis-server inside the
 * server namespace (lease-redis). Needs root, dhclient, radvd (and redis-server); skips otherwise.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { realnetAvailable, withLan, type Lan } from '../../helpers/realnet.js';
import { addClientIface, fileLines, startPxekit, tmp, until } from '../dhcp/helpers.js';
import { dhclient6Script, dhclientArgs, fullConfig, lan6, noTentative, v6Leases } from './helpers6.js';

const skip = realnetAvailable(['dhclient', 'radvd']);
const skipRedis = skip ?? realnetAvailable(['redis-server', 'redis-cli']);

/** Binds one client on `iface`; resolves with its address and the dhclient process (left running). */
async function bindClient(lan: Lan, dir: string, iface: string, pxeLog: string) {
  const out = path.join(dir, `${iface}.out`);
  const client = lan.spawnIn(lan.cliNs, 'dhclient', dhclientArgs(dir, dhclient6Script(dir, out), iface)('-d'));
  const bound = await until(
    () => fileLines(out).find((l) => l.startsWith('BOUND6 ')),
    30_000,
    `dhclient on ${iface} bound`,
    () => `${client.output()}\n--- pxekit ---\n${fileLines(pxeLog).slice(-15).join('\n')}`,
  );
  return { address: bound.split(' ')[1]!, client };
}

/** Second client interface (its own MAC) out of duplicate address detection. */
async function secondIface(lan: Lan): Promise<void> {
  await addClientIface(lan, 'c2', '52:54:00:d6:00:02');
  await noTentative(lan, lan.cliNs);
}

test('lease-file: a restarted server keeps the DHCPv6 binding', { skip, timeout: 120_000 }, async (t) => {
  await withLan(t, lan6('d6stof'), async (lan) => {
    const dir = tmp('d6stof');
    const leaseFile = path.join(dir, 'leases.log');
    await noTentative(lan, lan.cliNs);
    const config = fullConfig({ leaseFile });
    let pxe = await startPxekit(lan, dir, config, 547);
    const first = await bindClient(lan, dir, 'eth0', pxe.logFile);
    await pxe.stop();
    assert.deepEqual(
      v6Leases(leaseFile).map((l) => [l.ip, l.state]),
      [[first.address, 'bound']],
    );

    pxe = await startPxekit(lan, dir, config, 547);
    await until(
      () => pxe.events('lease-file.loaded')[0],
      10_000,
      'store loaded',
      () => fileLines(pxe.logFile).join('\n'),
    );
    assert.equal(pxe.events('lease-file.loaded')[0]!.leases, 1, 'the binding was read back');
    await secondIface(lan);
    const second = await bindClient(lan, dir, 'c2', pxe.logFile);
    assert.notEqual(second.address, first.address, 'the first binding is still held after the restart');
    const bound = v6Leases(leaseFile).filter((l) => l.state === 'bound');
    assert.deepEqual(bound.map((l) => l.ip).sort(), [first.address, second.address].sort());
    await Promise.all([first.client.stop(), second.client.stop()]);
    await pxe.stop();
  });
});

test('lease-redis: a restarted server keeps the DHCPv6 binding', { skip: skipRedis, timeout: 120_000 }, async (t) => {
  await withLan(t, lan6('d6stor'), async (lan) => {
    const dir = tmp('d6stor');
    await noTentative(lan, lan.cliNs);
    // redis-server on the server namespace's own loopback (stopped by the LAN's teardown).
    lan.spawnIn(lan.srvNs, 'redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--dir', dir]);
    await lan.waitForTcpListen(lan.srvNs, 6379, 10_000);
    const redis = async (...args: string[]) =>
      (await lan.execIn(lan.srvNs, 'redis-cli', ['-p', '6379', ...args], { timeoutMs: 5_000 })).stdout.trim();
    const config = fullConfig({
      extraPlugins: [['lease-redis', { redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'd6:' } }]],
    });
    let pxe = await startPxekit(lan, dir, config, 547);
    const first = await bindClient(lan, dir, 'eth0', pxe.logFile);
    const stored = (await redis('HGETALL', `d6:lease:ip:${first.address}`)).split('\n');
    const field = (name: string) => stored[stored.indexOf(name) + 1];
    assert.match(field('mac') ?? '', /^v6:[0-9a-f]+:[0-9a-f]{8}$/, stored.join(' '));
    assert.equal(field('state'), 'bound');
    await pxe.stop();

    pxe = await startPxekit(lan, dir, config, 547);
    await secondIface(lan);
    const second = await bindClient(lan, dir, 'c2', pxe.logFile);
    assert.notEqual(second.address, first.address, 'the first binding is still held after the restart');
    assert.equal(await redis('HGET', `d6:lease:ip:${second.address}`, 'state'), 'bound');
    await Promise.all([first.client.stop(), second.client.stop()]);
    await pxe.stop();
  });
});
