/**
 * One machine netbooting over IPv6 asks for an address three times, each time as a new IA and none
 * releasing first (measured under QEMU, test/e2e/ipv6-boot.test.ts): OVMF's IPv6 stack (its own DHCPv6,
 * no arch), then its PXE client (arch 7, another IAID), then iPXE (another DUID: a UUID that is all zeros
 * under QEMU). A reservation by MAC must follow the machine through all three; without one, each stage
 * gets an address from the pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import { decode, findOption, type Dhcp6Option, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import { makeServer } from '../dhcp-service/helpers.js';
import { dhcp6Config } from './config6.js';
import { edk2PxeOptions, iaNa } from '../../helpers/dhcp6-messages.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[:\s]/g, ''), 'hex');
const MAC = '52:54:00:e2:e6:01';
const LL = { address: 'fe80::5054:ff:fee2:e601%eth0', port: 546 };
const EDK2_DUID = hex('0001 0001 31ed1a02 525400e2e601');
const IPXE_DUID = hex('0004' + '00'.repeat(16));

function server(reservations: Array<{ mac: string; address: string }>) {
  return makeServer(dhcp6Config({ rapidCommit: false }, { reservations }), [
    ipxeChain({ script: '/boot.ipxe', binaries: { uefi64: 'ipxe.efi' } }),
    bootByArch(),
  ]);
}

const ia = (iaid: number, address?: string): Dhcp6Option => iaNa(iaid, [address], 0xffffffff);

/** Solicit → Advertise → Request → Reply for one stage; returns the bound address and the boot URL. */
async function stage(s: ReturnType<typeof server>, duid: Buffer, iaid: number, extra: Dhcp6Option[]) {
  const send = async (type: number, opts: Dhcp6Option[]) => {
    const p: Dhcp6Packet = { kind: 'message', msgType: type, transactionId: iaid & 0xffffff, options: opts };
    const out = await s.server.dhcp6.inject(p, LL);
    assert.equal(out.length, 1, `one answer to message type ${type}`);
    return decode(out[0]!.buffer).options;
  };
  const base = [{ kind: 'client-id' as const, duid }, ...extra];
  const adv = await send(1, [...base, ia(iaid)]);
  const offered = findOption(findOption(adv, 'ia-na')!.options, 'iaaddr')?.address;
  assert.ok(offered, `stage IAID ${iaid}: the Advertise carries an address (not NoAddrsAvail)`);
  const sid = findOption(adv, 'server-id')!;
  const rep = await send(3, [...base, sid, ia(iaid, offered)]);
  const bound = findOption(findOption(rep, 'ia-na')!.options, 'iaaddr')?.address;
  return { offered, bound, url: findOption(rep, 'bootfile-url')?.url };
}

const ip6Stack: Dhcp6Option[] = [{ kind: 'oro', codes: [23] }];
const pxe = edk2PxeOptions();
const ipxe: Dhcp6Option[] = [
  { kind: 'oro', codes: [23, 24, 59, 60] },
  { kind: 'user-class', classes: [Buffer.from('iPXE')] },
];

test('a MAC reservation follows the machine: IPv6 stack, PXE client and iPXE all get the reserved address', async () => {
  const s = server([{ mac: MAC, address: 'fd77::11' }]);
  const first = await stage(s, EDK2_DUID, 0x01, ip6Stack);
  assert.equal(first.bound, 'fd77::11');
  const boot = await stage(s, EDK2_DUID, 0xf3cdddf7, pxe);
  assert.equal(boot.offered, 'fd77::11', 'the PXE IA takes the reserved address over from the IPv6 stack IA');
  assert.equal(boot.bound, 'fd77::11');
  assert.equal(boot.url, 'tftp://[fd77::1]/ipxe.efi');
  const script = await stage(s, IPXE_DUID, 0x5254, ipxe);
  assert.equal(script.bound, 'fd77::11', 'iPXE (another DUID, same MAC in its link-local address) too');
  assert.match(script.url ?? '', /^http:\/\/\[fd77::1\](:\d+)?\/boot\.ipxe$/);
  const leases = (await s.server.dhcp.leaseStore.list()).filter((l) => l.ip === 'fd77::11');
  assert.equal(leases.length, 1, 'one record for the address');
  assert.equal(leases[0]!.state, 'bound');
  assert.match(leases[0]!.mac, /^v6:0004/, "bound to iPXE's IA, the last to ask");
});

test('a reserved address is never taken over by another machine', async () => {
  const s = server([{ mac: MAC, address: 'fd77::11' }]);
  assert.equal((await stage(s, EDK2_DUID, 0x01, ip6Stack)).bound, 'fd77::11');
  assert.notEqual(await otherMachine(s), 'fd77::11');
  assert.equal((await s.server.dhcp.leaseStore.getByIp('fd77::11'))?.state, 'bound');
});

/** Another machine (its own MAC in DUID and link-local address) asking for the reserved address by hint. */
async function otherMachine(s: ReturnType<typeof server>): Promise<string | undefined> {
  const duid = hex('0003 0001 525400e2e602');
  const p: Dhcp6Packet = {
    kind: 'message',
    msgType: 1,
    transactionId: 9,
    options: [{ kind: 'client-id', duid }, ia(9, 'fd77::11'), ...ip6Stack],
  };
  const out = await s.server.dhcp6.inject(p, { address: 'fe80::5054:ff:fee2:e602%eth0', port: 546 });
  return findOption(findOption(decode(out[0]!.buffer).options, 'ia-na')!.options, 'iaaddr')?.address;
}

test('without a reservation every stage gets its own address from the pool', async () => {
  const s = server([]);
  const a = await stage(s, EDK2_DUID, 0x01, ip6Stack);
  const b = await stage(s, EDK2_DUID, 0xf3cdddf7, pxe);
  const c = await stage(s, IPXE_DUID, 0x5254, ipxe);
  assert.equal(new Set([a.bound, b.bound, c.bound]).size, 3, 'three IAs, three addresses');
  assert.equal(b.url, 'tftp://[fd77::1]/ipxe.efi');
});
