/**
 * DHCPv4 and DHCPv6 in full mode share one plugin lease store (lease-file) across a config reload
 * (`createServer({ replaces })`, what `pxekit start` does on SIGHUP): clients bound before the reload renew
 * the same addresses after it, new clients of both families are bound by the new server, no address is
 * given twice, and every binding of both families is in the lease file that a restarted server reads back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { PxeConfigInput } from '../../../core/config/types.js';
import { DHCPACK, DHCPDISCOVER, DHCPREQUEST } from '../../../core/dhcp/packet.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { decode, findOption, type Dhcp6Option, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import type { PxeServer } from '../../../core/server.js';
import { createServer } from '../../../core/create-server.js';
import leaseFile from '../../../plugins/lease-file/index.js';
import { iaNa } from '../../helpers/dhcp6-messages.js';
import { memoryLogger, request } from '../dhcp-service/helpers.js';

const local = { address: '10.77.0.1', interface: 'eth0' };
const source6 = { address: 'fe80::5054:ff:fe00:1%eth0', port: 546 };
const SERVER_DUID = '00:03:00:01:02:00:00:00:06:02';

function config(dns: string): PxeConfigInput {
  return {
    dhcp: {
      mode: 'full',
      address: '127.0.0.1',
      port: 0,
      serverAddress: '10.77.0.1',
      pools: [{ subnet: '10.77.0.0/24', range: ['10.77.0.100', '10.77.0.199'], dns: [dns], leaseTime: 3600 }],
    },
    dhcp6: {
      mode: 'full',
      port: 0,
      serverAddress: '::1',
      serverDuid: SERVER_DUID,
      rapidCommit: false,
      pools: [{ prefix: 'fd77::/64', range: ['fd77::100', 'fd77::1ff'] }],
    },
    tftp: { enabled: false },
    http: { enabled: false },
  } as PxeConfigInput;
}

const mac4 = (n: number) => `52:54:00:4c:00:${n.toString(16).padStart(2, '0')}`;
const duid6 = (n: number) => Buffer.from(`0003000102000000${n.toString(16).padStart(4, '0')}`, 'hex');
const SID: Dhcp6Option = { kind: 'server-id', duid: Buffer.from(SERVER_DUID.replace(/:/g, ''), 'hex') };

/** DISCOVER → OFFER → REQUEST → ACK (or a REQUEST for `renew` only); the bound address. */
async function dora4(server: PxeServer, n: number, renew?: string): Promise<string> {
  let ip = renew;
  if (!ip) {
    const [offer] = await server.inject.dhcp(request(mac4(n), DHCPDISCOVER), { local });
    assert.ok(offer, `OFFER for client ${n}`);
    ip = offer.packet.yiaddr;
  }
  const fields = renew ? { ciaddr: renew } : {};
  const opts = renew ? {} : { 54: '10.77.0.1', 50: ip };
  const [ack] = await server.inject.dhcp(request(mac4(n), DHCPREQUEST, fields, opts), {
    local,
    ...(renew ? { source: { address: renew, port: 68 } } : {}),
  });
  assert.equal(ack ? getOption(ack.packet, 53) : undefined, DHCPACK, `ACK for client ${n}`);
  return ack!.packet.yiaddr;
}

function msg6(type: number, n: number, extra: Dhcp6Option[]): Dhcp6Packet {
  return {
    kind: 'message',
    msgType: type,
    transactionId: 0x600 + n,
    options: [{ kind: 'client-id', duid: duid6(n) }, { kind: 'elapsed-time', centiseconds: 0 }, ...extra],
  };
}

async function reply6(server: PxeServer, p: Dhcp6Packet): Promise<string> {
  const [out] = await server.dhcp6.inject(p, source6);
  assert.ok(out, 'a reply');
  const ia = findOption(decode(out.buffer).options, 'ia-na');
  assert.equal(findOption(ia?.options ?? [], 'status-code'), undefined, 'no IA status: bound');
  const address = findOption(ia?.options ?? [], 'iaaddr')?.address;
  assert.ok(address, 'an address in the IA');
  return address;
}

/** Solicit → Advertise → Request → Reply (or a Renew of `renew`); the bound address. */
async function sarr6(server: PxeServer, n: number, renew?: string): Promise<string> {
  if (renew) return reply6(server, msg6(5, n, [SID, iaNa(1, [renew])]));
  const offered = await reply6(server, msg6(1, n, [iaNa(1, [])]));
  return reply6(server, msg6(3, n, [SID, iaNa(1, [offered])]));
}

test('DHCPv4 + DHCPv6 full on one lease-file store across a reload: renewals keep, new clients bind, all durable', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pxk-shared-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'leases.log');
  const { logger, lines } = memoryLogger('info');
  const first = createServer({ ...config('10.77.0.53'), logger, plugins: [leaseFile({ path: file })] });
  await first.start();
  let second: PxeServer | undefined;
  try {
    const before = { v4: [] as string[], v6: [] as string[] };
    for (let n = 1; n <= 5; n++) before.v4.push(await dora4(first, n));
    for (let n = 1; n <= 5; n++) before.v6.push(await sarr6(first, n));

    second = createServer({ ...config('10.77.0.54'), logger, plugins: [leaseFile({ path: file })], replaces: first });
    await second.start();
    assert.ok(
      lines.some((l) => l.event === 'config.reloaded'),
      'the new server took over',
    );

    // Bound before the reload: the same address after it, from the handed-over store.
    for (let n = 1; n <= 5; n++) assert.equal(await dora4(second, n, before.v4[n - 1]), before.v4[n - 1]);
    for (let n = 1; n <= 5; n++) assert.equal(await sarr6(second, n, before.v6[n - 1]), before.v6[n - 1]);
    // New clients of both families: new addresses, none given twice.
    const after = { v4: [] as string[], v6: [] as string[] };
    for (let n = 6; n <= 10; n++) after.v4.push(await dora4(second, n));
    for (let n = 6; n <= 10; n++) after.v6.push(await sarr6(second, n));
    const all4 = [...before.v4, ...after.v4];
    const all6 = [...before.v6, ...after.v6];
    assert.equal(new Set(all4).size, 10, `no IPv4 address twice: ${all4.join(' ')}`);
    assert.equal(new Set(all6).size, 10, `no IPv6 address twice: ${all6.join(' ')}`);
    // The new config is the one answering (DNS option from the reloaded pool).
    const [offer] = await second.inject.dhcp(request(mac4(20), DHCPDISCOVER), { local });
    assert.deepEqual(getOption(offer!.packet, 6), ['10.77.0.54']);
    await second.close();
    second = undefined;

    // A server started afresh on the same file knows every binding of both families.
    const third = createServer({ ...config('10.77.0.54'), logger, plugins: [leaseFile({ path: file })] });
    t.after(() => third.close());
    await third.dhcp.loadLeaseStore();
    for (let n = 1; n <= 10; n++) {
      const lease = await third.dhcp.leaseStore.get(mac4(n));
      assert.equal(lease?.ip, all4[n - 1], `IPv4 client ${n} in the file`);
      assert.equal(lease?.state, 'bound');
    }
    for (let n = 1; n <= 10; n++) assert.equal(await sarr6(third, n, all6[n - 1]), all6[n - 1], `IPv6 client ${n}`);
  } finally {
    await second?.close();
    await first.close();
  }
});
