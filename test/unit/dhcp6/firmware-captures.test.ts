/**
 * The UEFI firmware's own DHCPv6 messages, recorded under QEMU by test/lab/capture-dhcp6.sh (steps `uefi`
 * and `http`; test/fixtures/README.md): OVMF's IPv6 stack, its PXE client and then iPXE against dnsmasq,
 * and OVMF's UEFI HTTP boot against Kea. What each stage sends is decoded field by field (golden.test.ts
 * checks every file against tshark as well), and the real requests are answered by pxekit's server
 * through the same classify/selectBoot path as IPv4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import {
  decode,
  duidMac,
  encode,
  findOption,
  parseDuid,
  type Dhcp6Message,
  type Dhcp6Option,
} from '../../../core/dhcp6/codec.js';
import { makeServer } from '../dhcp-service/helpers.js';
import { dhcp6Config } from './config6.js';

const bytes = (f: string): Buffer =>
  Buffer.from(readFileSync(fileURLToPath(new URL(`../../fixtures/dhcp6/${f}`, import.meta.url)), 'utf8').trim(), 'hex');
function message(f: string): Dhcp6Message {
  const p = decode(bytes(f));
  assert.equal(p.kind, 'message', `${f} is a client/server message`);
  return p as Dhcp6Message;
}
const codes = (m: Dhcp6Message) => m.options.map((o) => o.kind);
const vendor = (m: Dhcp6Message) => {
  const v = findOption(m.options, 'vendor-class');
  return v && { enterprise: v.enterprise, data: v.data.map((d) => d.toString('latin1')) };
};
const INFINITY = 0xffffffff;
const PXE_LL = 'fe80::5054:ff:fe77:e664';

test('OVMF IPv6 stack (uefi-01): its own stateful DHCPv6 before PXE — DUID-LLT, IA_NA, ORO [23], no arch', () => {
  const m = message('uefi-01-1.hex');
  assert.equal(m.msgType, 1);
  assert.deepEqual(codes(m), ['client-id', 'elapsed-time', 'ia-na', 'oro']);
  const duid = findOption(m.options, 'client-id')!.duid;
  assert.equal(parseDuid(duid).type, 'llt');
  assert.equal(duidMac(duid), '52:54:00:77:e6:64');
  assert.deepEqual(findOption(m.options, 'oro')?.codes, [23]);
  const ia = findOption(m.options, 'ia-na')!;
  assert.deepEqual([ia.t1, ia.t2], [INFINITY, INFINITY]);
});

test('OVMF PXE over IPv6 (uefi-05/07): same DUID, another IAID, arch 7, NII 3.0, PXEClient, no user class or rapid commit', () => {
  const stack = message('uefi-01-1.hex');
  const m = message('uefi-05-1.hex');
  assert.deepEqual(codes(m), ['client-id', 'elapsed-time', 'ia-na', 'oro', 'nii', 'client-arch-type', 'vendor-class']);
  assert.deepEqual(findOption(m.options, 'client-id')!.duid, findOption(stack.options, 'client-id')!.duid);
  assert.notEqual(findOption(m.options, 'ia-na')!.iaid, findOption(stack.options, 'ia-na')!.iaid, 'a new IA');
  assert.deepEqual(findOption(m.options, 'oro')?.codes, [59, 60, 23, 16]);
  assert.deepEqual(findOption(m.options, 'nii'), { kind: 'nii', type: 1, major: 3, minor: 0 });
  assert.deepEqual(findOption(m.options, 'client-arch-type')?.types, [7]);
  assert.deepEqual(vendor(m), { enterprise: 343, data: ['PXEClient:Arch:00007:UNDI:003000'] });
  assert.equal(findOption(m.options, 'rapid-commit'), undefined);
  // Its Request repeats the class options and names the server it chose (dnsmasq here).
  const req = message('uefi-07-3.hex');
  assert.equal(req.msgType, 3);
  assert.ok(findOption(req.options, 'server-id'));
  assert.deepEqual(findOption(req.options, 'client-arch-type')?.types, [7]);
  // The Reply it accepted: an address in IA_NA and 59 = tftp://[server]/file, no option 16.
  const reply = message('uefi-08-7.hex');
  assert.equal(findOption(reply.options, 'bootfile-url')?.url, 'tftp://[fd77::1]/ipxe.efi');
  assert.equal(findOption(reply.options, 'vendor-class'), undefined);
  // Before it starts the boot file it releases both IAs (uefi-09 and uefi-11).
  assert.deepEqual([message('uefi-09-8.hex').msgType, message('uefi-11-8.hex').msgType], [8, 8]);
});

test('iPXE over IPv6 (uefi-13): DUID-UUID of zeros under QEMU, user class iPXE, arch 7, its own vendor class', () => {
  const m = message('uefi-13-1.hex');
  const duid = findOption(m.options, 'client-id')!.duid;
  assert.equal(parseDuid(duid).type, 'uuid');
  assert.deepEqual(duid, Buffer.from('0004' + '00'.repeat(16), 'hex'), 'every QEMU guest sends this DUID');
  assert.equal(duidMac(duid), undefined, 'no MAC in it: the link-local address has to tell');
  assert.deepEqual(
    findOption(m.options, 'user-class')?.classes.map((c) => c.toString()),
    ['iPXE'],
  );
  assert.deepEqual(findOption(m.options, 'oro')?.codes, [23, 24, 59, 60]);
  assert.deepEqual(findOption(m.options, 'client-arch-type')?.types, [7]);
  assert.deepEqual(vendor(m), { enterprise: 343, data: ['PXEClient:Arch:00007:UNDI:003010'] });
  const ia = findOption(m.options, 'ia-na')!;
  assert.deepEqual([ia.t1, ia.t2], [0, 0]);
});

test('OVMF HTTP boot over IPv6 (http-01/07): arch 16, HTTPClient; the IPv6 stack asks in between (http-03)', () => {
  const m = message('http-01-1.hex');
  assert.deepEqual(findOption(m.options, 'client-arch-type')?.types, [16]);
  assert.deepEqual(vendor(m), { enterprise: 343, data: ['HTTPClient:Arch:00016:UNDI:003000'] });
  assert.deepEqual(findOption(m.options, 'oro')?.codes, [59, 60, 23, 16]);
  assert.deepEqual(findOption(message('http-03-1.hex').options, 'oro')?.codes, [23], 'the stack, not HTTP boot');
  const req = message('http-07-3.hex');
  assert.equal(findOption(req.options, 'ia-na')!.iaid, findOption(m.options, 'ia-na')!.iaid, 'back to the HTTP IA');
  // What it accepted from Kea: 16 echoed as enterprise 343 + "HTTPClient", 59 an http:// URL.
  const reply = message('http-08-7.hex');
  assert.deepEqual(vendor(reply), { enterprise: 343, data: ['HTTPClient'] });
  assert.equal(findOption(reply.options, 'bootfile-url')?.url, 'http://[fd77::1]/ipxe.efi');
});

function server() {
  return makeServer(dhcp6Config({ rapidCommit: false }), [
    ipxeChain({ script: '/boot.ipxe', binaries: { uefi64: 'ipxe.efi' } }),
    bootByArch({ uefiHttp64: '/ipxe.efi' }),
  ]);
}

/** Injects a capture as it arrived: from the guest's EUI-64 link-local address (as in index.tsv). */
async function answer(s: ReturnType<typeof server>, f: string, linkLocal: string): Promise<Dhcp6Option[]> {
  const ll = `${linkLocal}%eth0`;
  const out = await s.server.dhcp6.inject(bytes(f), { address: ll, port: 546 });
  assert.equal(out.length, 1, `${f}: one answer`);
  const p = decode(out[0]!.buffer);
  assert.equal(p.msgType, 2, `${f}: an Advertise`);
  return p.options;
}

test("pxekit answers the firmware's real Solicits: PXE gets tftp://, HTTP boot http:// + HTTPClient, iPXE its script", async () => {
  const s = server();
  const pxe = await answer(s, 'uefi-05-1.hex', PXE_LL);
  assert.equal(findOption(pxe, 'bootfile-url')?.url, 'tftp://[fd77::1]/ipxe.efi');
  assert.ok(findOption(findOption(pxe, 'ia-na')!.options, 'iaaddr'), 'with an address');
  const http = await answer(s, 'http-01-1.hex', 'fe80::5054:ff:fe77:e648');
  assert.match(findOption(http, 'bootfile-url')!.url, /^http:\/\/\[fd77::1\](:8080)?\/ipxe\.efi$/);
  // Byte for byte the option 16 that OVMF accepted from Kea.
  const ours = encode({ kind: 'message', msgType: 2, transactionId: 0, options: [findOption(http, 'vendor-class')!] });
  const kea = encode({
    kind: 'message',
    msgType: 2,
    transactionId: 0,
    options: [findOption(message('http-08-7.hex').options, 'vendor-class')!],
  });
  assert.deepEqual(ours, kea);
  const ipxe = await answer(s, 'uefi-13-1.hex', PXE_LL);
  assert.match(findOption(ipxe, 'bootfile-url')!.url, /^http:\/\/\[fd77::1\](:8080)?\/boot\.ipxe$/);
  assert.equal(s.server.sessions.get('52:54:00:77:e6:64')?.archName, 'x64-uefi');
  assert.deepEqual(
    await s.server.dhcp6.inject(bytes('uefi-07-3.hex')),
    [],
    "the Request names dnsmasq's server id: not for pxekit",
  );
});
