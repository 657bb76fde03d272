/**
 * Lease store compare-and-set rules, the allocator (no per-address store scan, preferred addresses),
 * pool checks, interface inference, and the rules for a plugin-provided lease store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLeaseStore } from '../../../core/dhcp/leases/memory-store.js';
import type { LeaseStore } from '../../../core/dhcp/leases/store.js';
import { Allocator } from '../../../core/dhcp/leases/allocator.js';
import { buildPools, parseCidr } from '../../../core/dhcp/leases/pool.js';
import { inferLocal, localAddresses, servedAddresses } from '../../../core/dhcp/interfaces.js';
import { definePlugin } from '../../../core/plugin.js';
import { PxeError } from '../../../core/errors.js';
import { makeServer } from './helpers.js';

const w = (mac: string, ip: string, expiresAt: number) => ({ mac, ip, expiresAt, subnet: '10.0.0.0/24' });

test('memory store: compare-and-set on the address, one record per MAC', async () => {
  const s = new MemoryLeaseStore();
  assert.ok(await s.offer(w('a', '10.0.0.5', 100), 0));
  assert.equal(await s.offer(w('b', '10.0.0.5', 100), 50), undefined, 'held by a');
  assert.equal(await s.commit(w('b', '10.0.0.5', 100), 50), undefined);
  assert.equal((await s.commit(w('a', '10.0.0.5', 1000), 50))?.state, 'bound');
  // Re-offering a live bound lease keeps it bound and does not shorten it.
  const re = await s.offer(w('a', '10.0.0.5', 200), 60);
  assert.deepEqual([re?.state, re?.expiresAt], ['bound', 1000]);
  // Moving a to another address frees the first one.
  assert.ok(await s.offer(w('a', '10.0.0.6', 300), 70));
  assert.equal(await s.getByIp('10.0.0.5'), undefined);
  // Expired holds are free for anyone; the old holder's MAC record goes.
  assert.ok(await s.offer(w('b', '10.0.0.6', 900), 400));
  assert.equal(await s.get('a'), undefined);
  assert.equal(await s.release('a', '10.0.0.6', 410), false, "not a's");
  assert.equal(await s.release('b', '10.0.0.6', 410), true);
  assert.equal((await s.get('b'))?.state, 'released');
  await s.decline('10.0.0.7', 5000, '10.0.0.0/24', 420);
  assert.equal(
    await s.offer(w('c', '10.0.0.7', 900), 430),
    undefined,
    "declined addresses are nobody's until the quarantine ends",
  );
  assert.ok(await s.offer(w('c', '10.0.0.7', 9000), 5000));
});

test('allocator: one store offer per new client (no scanning the store), previous address preferred', async () => {
  const store = new MemoryLeaseStore();
  let offers = 0;
  let lookups = 0;
  const counting: LeaseStore = {
    name: 'counting',
    load: () => store.load(),
    get: (mac) => store.get(mac),
    getByIp: (ip) => {
      lookups++;
      return store.getByIp(ip);
    },
    offer: (l, now) => {
      offers++;
      return store.offer(l, now);
    },
    commit: (l, now) => store.commit(l, now),
    release: (mac, ip, now) => store.release(mac, ip, now),
    decline: (ip, until, subnet, now) => store.decline(ip, until, subnet, now),
    list: () => store.list(),
    close: () => store.close(),
  };
  const [pool] = buildPools([
    {
      subnet: '10.1.0.0/16',
      range: ['10.1.0.1', '10.1.255.254'],
      leaseTime: 60,
      reservations: [{ mac: '02:00:00:00:00:01', ip: '10.1.0.2' }],
    },
  ]);
  const alloc = new Allocator(counting, [pool!], ['10.1.0.1']);
  const now = 1000;
  const ips = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const l = await alloc.offer(pool!, { mac: `m${i}`, preferred: [], expiresAt: now + 30_000, now });
    ips.add(l!.ip);
  }
  assert.equal(ips.size, 5000);
  assert.equal(offers, 5000);
  assert.equal(lookups, 0);
  assert.ok(!ips.has('10.1.0.1') && !ips.has('10.1.0.2'), 'excluded and reserved addresses are skipped');
  const first = await store.get('m0');
  await alloc.release(pool!, 'm0', first!.ip, now + 1);
  const again = await alloc.offer(pool!, { mac: 'm0', preferred: [first!.ip], expiresAt: now + 60_000, now: now + 2 });
  assert.equal(again?.ip, first!.ip);
  assert.equal(alloc.free(pool!, now + 2), 65534 - 2 - 5000);
});

test('pools: ranges and reservations must lie in the subnet', () => {
  assert.deepEqual(parseCidr('10.9.8.7/24'), {
    cidr: '10.9.8.0/24',
    network: 0x0a090800,
    prefix: 24,
    mask: 0xffffff00,
    broadcast: 0x0a0908ff,
  });
  const bad = (p: object) =>
    assert.throws(
      () => buildPools([{ leaseTime: 60, reservations: [], ...p } as never]),
      (e: unknown) => e instanceof PxeError && e.code === 'PXE_ERR_CONFIG_INVALID',
    );
  bad({ subnet: '10.0.0.0/24', range: ['10.0.1.1', '10.0.1.9'] });
  bad({ subnet: '10.0.0.0/24', range: ['10.0.0.9', '10.0.0.1'] });
  bad({
    subnet: '10.0.0.0/24',
    range: ['10.0.0.1', '10.0.0.9'],
    reservations: [{ mac: '02:00:00:00:00:01', ip: '10.2.0.1' }],
  });
  bad({ subnet: '10.0.0.0/8', range: ['10.0.0.1', '10.255.255.1'] });
});

test('interfaces: inference by giaddr/ciaddr/source, single-interface fallback, filtered interfaces', () => {
  const table = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: '' }],
    eth0: [{ address: '10.77.0.1', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '' }],
    eth1: [{ address: '192.168.5.1', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '' }],
  } as unknown as Parameters<typeof localAddresses>[0];
  const all = localAddresses(table);
  const both = servedAddresses(all, undefined, undefined);
  assert.deepEqual(
    both.map((a) => a.interface),
    ['eth0', 'eth1'],
  );
  const p = (giaddr: string, ciaddr: string, source: string) => ({ giaddr, ciaddr, source });
  assert.equal(
    (inferLocal(all, both, p('192.168.5.254', '0.0.0.0', '10.77.0.9')) as { interface: string }).interface,
    'eth1',
  );
  assert.equal(
    (inferLocal(all, both, p('0.0.0.0', '10.77.0.50', '10.77.0.50')) as { interface: string }).interface,
    'eth0',
  );
  assert.equal(
    inferLocal(all, both, p('0.0.0.0', '0.0.0.0', '0.0.0.0')),
    undefined,
    'a broadcast from 0.0.0.0 on two interfaces',
  );
  const only = servedAddresses(all, ['eth0'], undefined);
  assert.equal((inferLocal(all, only, p('0.0.0.0', '0.0.0.0', '0.0.0.0')) as { interface: string }).interface, 'eth0');
  assert.equal(inferLocal(all, only, p('0.0.0.0', '192.168.5.7', '192.168.5.7')), 'filtered');
  assert.throws(() => servedAddresses(all, ['eth7'], undefined), /'eth7'/);
});

test('leaseStore provided by a plugin: one store; a second registration names both plugins; the store is used', async () => {
  const storePlugin = (name: string, store: MemoryLeaseStore) =>
    definePlugin({
      name,
      provides: ['leaseStore'],
      apply(_server, { provide }) {
        provide('leaseStore', store);
      },
    });
  const a = new MemoryLeaseStore();
  assert.throws(
    () =>
      makeServer({ dhcp: { mode: 'full' } }, [
        storePlugin('store-a', a),
        storePlugin('store-b', new MemoryLeaseStore()),
      ]),
    (e: unknown) => {
      const err = (e as { cause?: unknown }).cause ?? e;
      return /store-a/.test(String((err as Error).message)) && /store-b/.test(String((err as Error).message));
    },
  );
  const { server } = makeServer({ dhcp: { mode: 'full' } }, [storePlugin('store-a', a)]);
  assert.equal(server.dhcp.leaseStore, a);
});

test('allocator: an exhausted pool takes back its oldest unanswered offer (older than 2 s) for a new client', async () => {
  const store = new MemoryLeaseStore();
  const [pool] = buildPools([
    { subnet: '10.2.0.0/29', range: ['10.2.0.2', '10.2.0.5'], leaseTime: 60, reservations: [] },
  ]);
  const alloc = new Allocator(store, [pool!]);
  const offer = (mac: string, now: number) => alloc.offer(pool!, { mac, preferred: [], expiresAt: now + 30_000, now });
  const held = [];
  for (let i = 0; i < 4; i++) held.push(await offer(`flood${i}`, 1000 + i));
  // One of them answers: a bound lease is never taken back.
  const bound = await alloc.commit(pool!, { mac: 'flood0', ip: held[0]!.ip, expiresAt: 100_000 }, 1010);
  assert.equal(bound?.state, 'bound');
  assert.equal(await offer('real', 2500), undefined, 'offers younger than 2 s stay held');
  const got = await offer('real', 3002);
  assert.equal(got?.ip, held[1]!.ip, 'the oldest unanswered offer went to the new client');
  // The client whose offer was taken back cannot bind it (it gets a NAK and starts over).
  assert.equal(await alloc.commit(pool!, { mac: 'flood1', ip: held[1]!.ip, expiresAt: 100_000 }, 3003), undefined);
  assert.equal((await store.getByIp(held[0]!.ip))?.mac, 'flood0');
  // Taken back in age order, and never more than the offers old enough.
  assert.equal((await offer('real2', 3004))?.ip, held[2]!.ip);
  assert.equal((await offer('real3', 3005))?.ip, held[3]!.ip);
  assert.equal(await offer('real4', 3006), undefined, 'every address is bound or freshly offered');
});
