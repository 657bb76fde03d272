/**
 * `dhcp6.mode: boot-only` through its real sockets on ::1, with the messages EDK2 sends (NetworkPkg
 * UefiPxeBcDxe/PxeBcDhcp6.c; the firmware run is test/e2e/ipv6-boot-only.test.ts): a Solicit gets a proxy
 * Advertise (no IA_NA at all, 59, vendor class PXEClient echoed — what EDK2 files as a "ProxyBinl" offer), the
 * boot-server Request on the PXE port (pxekit's Server Identifier, no IA_NA) gets a Reply with the boot URL,
 * and HTTP boot gets `HTTPClient` instead. A client with no boot decision is not answered.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import { findOption, findOptions, type Dhcp6Option, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import { exchange, startServer6 } from './udp6.js';
import { edk2PxeOptions } from '../../helpers/dhcp6-messages.js';

const DUID = Buffer.from('000100012a2b2c2d52540077e601', 'hex');
const SERVER_DUID = Buffer.from('00030001020000000001', 'hex');

function edk2(type: number, extra: Dhcp6Option[], arch = 7, vendor = 'PXEClient:Arch:00007:UNDI:003000'): Dhcp6Packet {
  return {
    kind: 'message',
    msgType: type,
    transactionId: 0x0b0b01,
    options: [
      { kind: 'client-id', duid: DUID },
      { kind: 'elapsed-time', centiseconds: 0 },
      ...extra,
      ...edk2PxeOptions(arch, vendor),
    ],
  };
}
const IA: Dhcp6Option = { kind: 'ia-na', iaid: 0x77e601, t1: 0, t2: 0, options: [] };
const vendorEcho = (p: Dhcp6Packet) =>
  findOptions(p.options, 'vendor-class').map((v) => `${v.enterprise}:${v.data.map((d) => d.toString()).join(',')}`);

test('boot-only on real sockets: proxy Advertise, PXE boot-server Request answered, HTTP boot echoed', async (t) => {
  const s = await startServer6({ mode: 'boot-only' }, [
    ipxeChain(),
    bootByArch({ uefiHttp64: 'http://[::1]/ipxe.efi' }),
  ]);
  t.after(() => s.server.close());
  assert.ok(s.pxePort && s.pxePort !== s.port, 'boot-only binds the PXE boot-server socket');
  assert.equal(s.lines.find((l) => l.event === 'dhcp6.listening')?.['pxePort'], s.pxePort);

  // 1. Solicit → an Advertise without IA_NA (EDK2 drops one whose IA_NA says NoAddrsAvail), 59 and PXEClient.
  const adv = (await exchange(s.port, edk2(1, [IA]))).answers;
  assert.equal(adv.length, 1, 'one Advertise');
  const a = adv[0]!;
  assert.equal(a.msgType, 2);
  assert.equal(findOptions(a.options, 'ia-na').length, 0, 'no IA_NA at all');
  assert.equal(findOption(a.options, 'status-code'), undefined, 'no top-level status either');
  assert.equal(findOption(a.options, 'bootfile-url')?.url, 'tftp://[::1]/ipxe.efi');
  assert.deepEqual(vendorEcho(a), ['343:PXEClient'], 'vendor class PXEClient echoed (a "ProxyBinl" offer)');
  assert.deepEqual(findOption(a.options, 'server-id')?.duid, SERVER_DUID);

  // 2. The boot-server Request EDK2 sends after taking its address elsewhere: to the URL's address, PXE port,
  // from its port 4011 (here any), our Server Identifier, the Request's options without IA_NA.
  const req = edk2(3, [{ kind: 'server-id', duid: SERVER_DUID }]);
  const rep = (await exchange(s.pxePort!, req)).answers;
  assert.equal(rep.length, 1, 'the boot-server Request is answered');
  assert.equal(rep[0]!.msgType, 7, 'Reply');
  assert.equal(findOption(rep[0]!.options, 'bootfile-url')?.url, 'tftp://[::1]/ipxe.efi');
  assert.equal(findOptions(rep[0]!.options, 'ia-na').length, 0);
  const logged = s.lines.find((l) => l.event === 'dhcp6.reply' && l['bootServer'] === true);
  assert.ok(logged, 'logged as a boot-server reply');
  assert.equal(logged['mac'], '52:54:00:77:e6:01', 'MAC from the DUID-LLT');

  // 3. A Request for another server (the one that gave the address) is not ours.
  const other = edk2(3, [{ kind: 'server-id', duid: Buffer.from('0003000102000000ffff', 'hex') }, IA]);
  assert.equal((await exchange(s.port, other, 500)).answers.length, 0, 'Request to another server: silent');

  // 4. UEFI HTTP boot: HTTPClient echoed (EDK2 HttpBootDxe: a "ProxyIpUri" offer), no PXEClient.
  const http = (await exchange(s.port, edk2(1, [IA], 16, 'HTTPClient:Arch:00016:UNDI:003000'))).answers[0];
  assert.ok(http, 'HTTP boot Solicit answered');
  assert.equal(findOptions(http.options, 'ia-na').length, 0);
  assert.equal(findOption(http.options, 'bootfile-url')?.url, 'http://[::1]/ipxe.efi');
  assert.deepEqual(vendorEcho(http), ['343:HTTPClient']);

  // 5. A host with no boot decision (no arch, no PXEClient): nothing, so it takes the site server's answer only.
  const plain: Dhcp6Packet = {
    kind: 'message',
    msgType: 1,
    transactionId: 0x0b0b02,
    options: [
      { kind: 'client-id', duid: Buffer.from('000300010200000000aa', 'hex') },
      IA,
      { kind: 'oro', codes: [23] },
    ],
  };
  assert.equal((await exchange(s.port, plain, 500)).answers.length, 0, 'no boot decision: silent');
});

test('full mode: no PXE boot-server socket, an ordinary Advertise (no PXEClient echo)', async (t) => {
  const s = await startServer6({ mode: 'full', pools: [{ prefix: 'fd77::/64', range: ['fd77::100', 'fd77::1ff'] }] }, [
    ipxeChain(),
    bootByArch(),
  ]);
  t.after(() => s.server.close());
  assert.equal(s.pxePort, undefined);
  // ::1 is on no pool's link: the client is not on fd77::/64, so a relay would be needed; one pool = that pool.
  const a = (await exchange(s.port, edk2(1, [IA]))).answers[0];
  assert.ok(a, 'Advertise');
  assert.ok(findOption(findOption(a.options, 'ia-na')!.options, 'iaaddr'), 'an address');
  assert.deepEqual(vendorEcho(a), [], 'PXEClient is not echoed: EDK2 would take it as a BINL offer and ask on 4011');
});
