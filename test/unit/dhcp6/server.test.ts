/**
 * The DHCPv6 server through `server.dhcp6.inject`: stateful IA_NA from a pool (Solicit → Advertise →
 * Request → Reply, Renew, Release, Decline, Confirm, Rapid Commit), reservations by DUID and by MAC,
 * relays with Interface-ID and option 79, and RFC 5970 boot options chosen by the same selectBoot
 * plugins as IPv4 (boot-by-arch, ipxe-chain, mac-allowlist).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import macAllowlist from '../../../plugins/mac-allowlist/index.js';
import { decode, findOption, findOptions, type Dhcp6Option, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import { makeServer } from '../dhcp-service/helpers.js';
import { dhcp6Config } from './config6.js';
import { edk2PxeOptions, iaNa } from '../../helpers/dhcp6-messages.js';
import type { PluginDefinition } from '../../../core/plugin.js';

const fixture = (f: string): Buffer =>
  Buffer.from(readFileSync(fileURLToPath(new URL(`../../fixtures/dhcp6/${f}`, import.meta.url)), 'utf8').trim(), 'hex');
const hex = (s: string): Buffer => Buffer.from(s.replace(/[:\s]/g, ''), 'hex');
const EDK2_DUID = hex('0001 0001 2a2b2c2d 525400 77e664');
const LL = 'fe80::5054:ff:fe77:e664%eth0';

function server(extra: Record<string, unknown> = {}, plugins: PluginDefinition[] = [ipxeChain(), bootByArch()]) {
  const pool = { range: ['fd77::100', 'fd77::10f'], preferredLifetime: 600, validLifetime: 1200 };
  return makeServer(dhcp6Config({ serverDuid: '00:03:00:01:52:54:00:00:00:01', ...extra }, pool), plugins);
}

function msg(type: number, options: Dhcp6Option[], xid = 0x123456): Dhcp6Packet {
  return { kind: 'message', msgType: type, transactionId: xid, options };
}

/** What OVMF sends for PXE over IPv6 (firmware-quirks.md): DUID-LLT, IA_NA, ORO, NII, arch 7, PXEClient. */
function edk2(
  type: number,
  extra: Dhcp6Option[] = [],
  arch = 7,
  vendor = 'PXEClient:Arch:00007:UNDI:003000',
): Dhcp6Packet {
  return msg(type, [
    { kind: 'client-id', duid: EDK2_DUID },
    { kind: 'elapsed-time', centiseconds: 0 },
    ...extra,
    ...edk2PxeOptions(arch, vendor),
  ]);
}

const ia = (iaid: number, ...addrs: string[]): Dhcp6Option => iaNa(iaid, addrs, 0xffffffff);

async function one(s: ReturnType<typeof server>, p: Dhcp6Packet | Buffer, source = { address: LL, port: 546 }) {
  const out = await s.server.dhcp6.inject(p, source);
  assert.equal(out.length, 1, 'one reply');
  return { ...out[0]!, packet: decode(out[0]!.buffer) };
}

test('UEFI PXE over IPv6: Advertise with an address and tftp://[fd77::1]/ipxe.efi, then Request → Reply binds it', async () => {
  const s = server();
  const adv = await one(s, edk2(1, [ia(1)]));
  assert.equal(adv.packet.msgType, 2);
  assert.equal(adv.to.address, LL);
  assert.equal(adv.to.port, 546);
  const opts = adv.packet.options;
  assert.deepEqual(findOption(opts, 'server-id')?.duid, hex('0003000152540000 0001'));
  const addr = findOption(findOption(opts, 'ia-na')!.options, 'iaaddr')!;
  assert.equal(addr.address, 'fd77::100');
  assert.equal(findOption(opts, 'bootfile-url')?.url, 'tftp://[fd77::1]/ipxe.efi');
  assert.equal(findOption(opts, 'preference')?.value, 255, 'preference 255: EDK2 does not wait 4.8 s');
  assert.equal(findOption(opts, 'vendor-class'), undefined, 'PXE needs no 16 echo');
  const rep = await one(
    s,
    edk2(3, [{ kind: 'server-id', duid: findOption(opts, 'server-id')!.duid }, ia(1, addr.address)]),
  );
  assert.equal(rep.packet.msgType, 7);
  assert.equal(findOption(findOption(rep.packet.options, 'ia-na')!.options, 'iaaddr')?.address, 'fd77::100');
  const lease = (await s.server.dhcp.leaseStore.list()).find((l) => l.ip === 'fd77::100');
  assert.equal(lease?.state, 'bound');
  assert.equal(lease?.subnet, 'fd77::/64');
  const session = s.server.sessions.get('52:54:00:77:e6:64');
  assert.equal(session?.ip, 'fd77::100', 'the session is keyed by the MAC from the EUI-64 link-local address');
  assert.equal(session?.archName, 'x64-uefi', 'option 61 lands in the same arch table as option 93');
  assert.ok(s.events.some((e) => e.type === 'dhcp6.reply' && e.mac === '52:54:00:77:e6:64'));
});

test('UEFI HTTP boot over IPv6 gets an http://[addr] URL and HTTPClient echoed; iPXE (user class) gets its script', async () => {
  const s = server({}, [ipxeChain({ script: '/boot.ipxe' }), bootByArch({ uefiHttp64: 'ipxe.efi' })]);
  const http = await one(s, edk2(1, [ia(1)], 16, 'HTTPClient:Arch:00016:UNDI:003000'));
  const opts = http.packet.options;
  assert.match(findOption(opts, 'bootfile-url')!.url, /^http:\/\/\[fd77::1\](:\d+)?\/ipxe\.efi$/);
  assert.deepEqual(findOption(opts, 'vendor-class'), {
    kind: 'vendor-class',
    enterprise: 343,
    data: [Buffer.from('HTTPClient')],
  });
  const ipxe = await one(
    s,
    msg(1, [
      { kind: 'client-id', duid: hex('0004' + '00'.repeat(16)) },
      ia(7),
      { kind: 'oro', codes: [23, 24, 59, 60] },
      { kind: 'user-class', classes: [Buffer.from('iPXE')] },
    ]),
    { address: 'fe80::5054:ff:fe12:3456%eth0', port: 546 },
  );
  assert.match(findOption(ipxe.packet.options, 'bootfile-url')!.url, /^http:\/\/\[fd77::1\](:\d+)?\/boot\.ipxe$/);
});

test('dhclient -6 captures: Solicit → Advertise, and its Request is for another server (ignored)', async () => {
  const s = server();
  const adv = await one(s, fixture('dhclient-01-1.hex'), { address: 'fe80::2c60:4fff:fe20:9310%eth0', port: 546 });
  assert.equal(adv.packet.msgType, 2);
  assert.equal(findOption(adv.packet.options, 'bootfile-url'), undefined, 'no 59 for a client that did not ask');
  assert.deepEqual(
    await s.server.dhcp6.inject(fixture('dhclient-03-3.hex')),
    [],
    "Request carries dnsmasq's server id",
  );
});

test('Rapid Commit, Renew, Confirm, Release and Decline', async () => {
  const s = server();
  const sid = { kind: 'server-id' as const, duid: s.server.dhcp6.serverDuid };
  const rc = await one(s, edk2(1, [ia(1), { kind: 'rapid-commit' }]));
  assert.equal(rc.packet.msgType, 7, 'Reply straight away');
  assert.ok(findOption(rc.packet.options, 'rapid-commit'));
  const ip = findOption(findOption(rc.packet.options, 'ia-na')!.options, 'iaaddr')!.address;
  const renew = await one(s, edk2(5, [sid, ia(1, ip)]));
  assert.equal(findOption(findOption(renew.packet.options, 'ia-na')!.options, 'iaaddr')?.validLifetime, 1200);
  const other = await one(s, edk2(5, [sid, ia(2, 'fd77::10f')]));
  assert.equal(findOption(findOption(other.packet.options, 'ia-na')!.options, 'status-code')?.status, 3, 'NoBinding');
  const confirm = await one(s, edk2(4, [ia(1, ip)]));
  assert.equal(findOption(confirm.packet.options, 'status-code')?.status, 0);
  const off = await one(s, edk2(4, [ia(1, 'fd99::1')]));
  assert.equal(findOption(off.packet.options, 'status-code')?.status, 4, 'NotOnLink');
  await one(s, edk2(8, [sid, ia(1, ip)]));
  assert.equal((await s.server.dhcp.leaseStore.getByIp(ip))?.state, 'released');
  await one(s, edk2(9, [sid, ia(1, 'fd77::105')]));
  assert.equal((await s.server.dhcp.leaseStore.getByIp('fd77::105'))?.state, 'declined');
});

test('the pool is never handed out twice, and runs out with NoAddrsAvail', async () => {
  const s = server();
  const seen = new Set<string>();
  for (let i = 0; i < 17; i++) {
    const duid = Buffer.concat([hex('00030001'), Buffer.from([0x52, 0x54, 0, 0x10, 0, i])]);
    const r = await one(s, msg(1, [{ kind: 'client-id', duid }, ia(1), { kind: 'rapid-commit' }]), {
      address: `fd77::9:${i}`,
      port: 546,
    });
    const inner = findOption(r.packet.options, 'ia-na')!.options;
    const a = findOption(inner, 'iaaddr');
    if (i < 16) {
      assert.ok(a && !seen.has(a.address), `client ${i} got a fresh address`);
      seen.add(a.address);
    } else assert.equal(findOption(inner, 'status-code')?.status, 2, 'NoAddrsAvail');
  }
});

test('reservations by DUID and by MAC (option 79 of a relay), relay-reply echoes Interface-ID', async () => {
  const s = server({
    pools: [
      {
        prefix: 'fd77::/64',
        range: ['fd77::100', 'fd77::10f'],
        reservations: [
          { duid: '00:01:00:01:2a:2b:2c:2d:52:54:00:77:e6:64', address: 'fd77::50' },
          { mac: '52:54:00:aa:bb:cc', address: 'fd77::51' },
        ],
      },
    ],
  });
  const byDuid = await one(s, edk2(1, [ia(1)]));
  assert.equal(findOption(findOption(byDuid.packet.options, 'ia-na')!.options, 'iaaddr')?.address, 'fd77::50');
  const inner = msg(1, [{ kind: 'client-id', duid: hex('0002 00000009 0102') }, ia(3), { kind: 'oro', codes: [23] }]);
  const relayed: Dhcp6Packet = {
    kind: 'relay',
    msgType: 12,
    hopCount: 0,
    linkAddress: 'fd77::3',
    peerAddress: 'fe80::1234',
    options: [
      { kind: 'interface-id', id: Buffer.from('port7') },
      { kind: 'client-linklayer-addr', linkType: 1, address: hex('525400aabbcc') },
      { kind: 'relay-msg', message: inner },
    ],
  };
  const out = await one(s, relayed, { address: 'fd77::3', port: 547 });
  assert.equal(out.to.port, 547, 'answered to the relay port');
  assert.equal(out.packet.kind, 'relay');
  assert.equal(out.packet.msgType, 13);
  assert.deepEqual(findOption(out.packet.options, 'interface-id')?.id, Buffer.from('port7'));
  const reply = findOption(out.packet.options, 'relay-msg')!.message;
  assert.equal(findOption(findOption(reply.options, 'ia-na')!.options, 'iaaddr')?.address, 'fd77::51');
});

test('mac-allowlist denies an IPv6 client by the MAC of its link-local address; boot-only answers boot options only', async () => {
  const deny = server({}, [macAllowlist({ allow: ['52:54:00:00:00:*'] }), bootByArch()]);
  assert.deepEqual(await deny.server.dhcp6.inject(edk2(1, [ia(1)]), { address: LL, port: 546 }), []);
  const boot = server({ mode: 'boot-only', pools: [] });
  const adv = await one(boot, edk2(1, [ia(1)]));
  assert.equal(
    findOptions(adv.packet.options, 'ia-na').length,
    0,
    'a proxy Advertise: no IA_NA (EDK2 drops NoAddrsAvail)',
  );
  assert.deepEqual(findOption(adv.packet.options, 'vendor-class')?.data, [Buffer.from('PXEClient')]);
  assert.equal(findOption(adv.packet.options, 'bootfile-url')?.url, 'tftp://[fd77::1]/ipxe.efi');
  const info = await one(
    boot,
    msg(11, [
      { kind: 'oro', codes: [59] },
      { kind: 'client-arch-type', types: [7] },
    ]),
  );
  assert.equal(info.packet.msgType, 7);
  assert.equal(findOptions(info.packet.options, 'bootfile-url').length, 1);
  assert.deepEqual(
    await boot.server.dhcp6.inject(fixture('dhclient-01-1.hex')),
    [],
    'no boot decision for dhclient: silent',
  );
});
