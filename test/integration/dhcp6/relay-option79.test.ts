/**
 * The client link-layer address option (79, RFC 6939) in Relay-forward messages, through the server's real
 * socket on ::1: a relay built here (ISC dhcrelay does not add option 79) that says it sends from its own port
 * (Relay Source Port, option 135, RFC 8357), so the Relay-reply comes back to it.
 *
 * A client whose DUID holds no MAC (DUID-EN) behind a relay from a link-local address that is not EUI-64:
 * - with option 79 its MAC is known: the reservation by MAC applies and mac-allowlist admits it;
 * - without it the MAC cannot be known (`macSource: unknown`, keyed `duid:<hex>`): it gets a pool address (not
 *   the reservation), and mac-allowlist with `unknown: deny` fails closed (no answer, `admit.deny` logged).
 * The Relay-forward dhcrelay sent in the lab (test/fixtures/dhcp6/relay-02-12.hex) with option 79 added: 79
 * outranks the EUI-64 peer address.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import macAllowlist from '../../../plugins/mac-allowlist/index.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import { decode, findOption, type Dhcp6Option, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import { exchange, startServer6, type LogLine } from './udp6.js';

const MAC = '52:54:00:79:00:01';
const RESERVED = 'fd79::42';
/** DUID-EN: enterprise 32473 (documentation), an opaque identifier: no MAC in it. */
const DUID_EN = Buffer.from('000200007ed9' + 'a1b2c3d4e5f60708', 'hex');
/** A privacy-style link-local peer address (no ff:fe in the middle): no MAC in it either. */
const PEER = 'fe80::1c2d:3e4f:5a6b:7c8d';
const POOLS = [
  {
    prefix: 'fd79::/64',
    range: ['fd79::100', 'fd79::1ff'],
    reservations: [{ mac: MAC, address: RESERVED, hostname: 'relayed-en' }],
  },
];

function relayed(opts: { option79: boolean; xid: number }): Dhcp6Packet {
  const solicit: Dhcp6Packet = {
    kind: 'message',
    msgType: 1,
    transactionId: opts.xid,
    options: [
      { kind: 'client-id', duid: DUID_EN },
      { kind: 'ia-na', iaid: 1, t1: 0, t2: 0, options: [] },
      { kind: 'oro', codes: [59, 23] },
      { kind: 'client-arch-type', types: [7] },
      { kind: 'vendor-class', enterprise: 343, data: [Buffer.from('PXEClient:Arch:00007:UNDI:003000')] },
    ],
  };
  const layer: Dhcp6Option[] = [
    { kind: 'raw', code: 135, data: Buffer.from([0, 0]) }, // RFC 8357: answer to the port this came from
    { kind: 'interface-id', id: Buffer.from('swp7') },
    ...(opts.option79
      ? [{ kind: 'client-linklayer-addr' as const, linkType: 1, address: Buffer.from(MAC.replace(/:/g, ''), 'hex') }]
      : []),
    { kind: 'relay-msg', message: solicit },
  ];
  return { kind: 'relay', msgType: 12, hopCount: 0, linkAddress: 'fd79::3', peerAddress: PEER, options: layer };
}

/** The address in the Advertise inside a Relay-reply. */
function offered(p: Dhcp6Packet | undefined, interfaceId: string | null = 'swp7'): string | undefined {
  if (!p || p.kind !== 'relay') return undefined;
  assert.equal(p.msgType, 13, 'Relay-reply');
  const iid = findOption(p.options, 'interface-id')?.id;
  assert.equal(iid?.toString() ?? null, interfaceId, 'Interface-ID echoed when the relay sent one');
  const inner = findOption(p.options, 'relay-msg')!.message;
  if (inner.kind !== 'message') return undefined;
  return findOption(findOption(inner.options, 'ia-na')?.options ?? [], 'iaaddr')?.address;
}

const advertised = (lines: LogLine[], xid: number) =>
  lines.find((l) => l.event === 'dhcp6.advertise' && l['xid'] === `0x${xid.toString(16).padStart(6, '0')}`);

test('option 79 from a relay gives a DUID-EN client its MAC: reservation by MAC, mac-allowlist admits', async (t) => {
  const s = await startServer6({ mode: 'full', pools: POOLS }, [
    macAllowlist({ allow: ['52:54:00:79:*'] }),
    ipxeChain(),
    bootByArch(),
  ]);
  t.after(() => s.server.close());
  const { answers } = await exchange(s.port, relayed({ option79: true, xid: 0x790001 }));
  assert.equal(offered(answers[0]), RESERVED, 'the reservation by MAC');
  const log = advertised(s.lines, 0x790001);
  assert.equal(log?.['macSource'], 'option79');
  assert.equal(log?.['mac'], MAC);
  assert.equal(log?.['relayed'], true);

  // Without option 79 the same client is unknown by MAC: mac-allowlist (unknown: deny) fails closed.
  const none = await exchange(s.port, relayed({ option79: false, xid: 0x790002 }), 800);
  assert.equal(none.answers.length, 0, 'denied: no answer');
  const deny = s.lines.find((l) => l.event === 'admit.deny' && String(l['mac']).startsWith('duid:'));
  assert.ok(deny, `admit.deny for the duid-keyed client: ${JSON.stringify(s.lines.slice(-5))}`);
  assert.equal(deny['mac'], `duid:${DUID_EN.toString('hex')}`);
});

test('without option 79 and with a DUID-EN: MAC unknown, logged, no reservation by MAC, a pool address', async (t) => {
  const s = await startServer6({ mode: 'full', pools: POOLS }, [ipxeChain(), bootByArch()]);
  t.after(() => s.server.close());
  const { answers } = await exchange(s.port, relayed({ option79: false, xid: 0x790003 }));
  const got = offered(answers[0]);
  assert.ok(got && got !== RESERVED && /^fd79::1[0-9a-f]{2}$/.test(got), `a pool address, not the reservation: ${got}`);
  const log = advertised(s.lines, 0x790003);
  assert.equal(log?.['macSource'], 'unknown');
  assert.equal(log?.['mac'], `duid:${DUID_EN.toString('hex')}`);
  assert.equal(log?.['bootFile'], 'tftp://[::1]/ipxe.efi', 'still booted by arch: only MAC-based decisions miss');
});

test('the Relay-forward dhcrelay sent in the lab, option 79 added: 79 wins over the EUI-64 peer', async (t) => {
  const file = fileURLToPath(new URL('../../fixtures/dhcp6/relay-02-12.hex', import.meta.url));
  const captured = decode(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
  assert.equal(captured.kind, 'relay');
  if (captured.kind !== 'relay') return;
  const s = await startServer6({ mode: 'full', pools: [{ prefix: 'fd77::/64', range: ['fd77::100', 'fd77::1ff'] }] }, [
    ipxeChain(),
    bootByArch(),
  ]);
  t.after(() => s.server.close());
  const as = (extra: Dhcp6Option[]): Dhcp6Packet => ({
    ...captured,
    options: [{ kind: 'raw', code: 135, data: Buffer.from([0, 0]) }, ...extra, ...captured.options],
  });
  const plain = await exchange(s.port, as([]));
  assert.ok(offered(plain.answers[0], null), 'the captured Relay-forward is answered');
  const before = s.lines.filter((l) => l.event === 'dhcp6.advertise').at(-1);
  assert.equal(before?.['macSource'], 'link-local', 'as captured: the MAC of the EUI-64 peer address');
  const mac79 = Buffer.from('525400790002', 'hex');
  await exchange(s.port, as([{ kind: 'client-linklayer-addr', linkType: 1, address: mac79 }]));
  const after = s.lines.filter((l) => l.event === 'dhcp6.advertise').at(-1);
  assert.equal(after?.['macSource'], 'option79');
  assert.equal(after?.['mac'], '52:54:00:79:00:02');
});
