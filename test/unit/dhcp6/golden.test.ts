/**
 * Golden decodes of real DHCPv6 clients recorded by test/lab/capture-dhcp6.sh (dhclient -6, dhcrelay
 * -6 with dnsmasq as the server, OVMF PXE over IPv6): every field tshark decoded independently
 * (test/fixtures/dhcp6/index.tsv) must match ours, and encode(decode(bytes)) must give the bytes back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  decode,
  duidMac,
  encode,
  encodingLength,
  findOption,
  optionCode,
  parseDuid,
  unwrapRelays,
  type Dhcp6Option,
  type Dhcp6Packet,
} from '../../../core/dhcp6/codec.js';

const dir = fileURLToPath(new URL('../../fixtures/dhcp6/', import.meta.url));

function rows(): Record<string, string>[] {
  const [head, ...lines] = readFileSync(dir + 'index.tsv', 'utf8')
    .trimEnd()
    .split('\n');
  const cols = head!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i]!, v])));
}
const load = (file: string): Buffer => Buffer.from(readFileSync(dir + file, 'utf8').trim(), 'hex');

/** Walks options depth-first the way tshark lists them (IA contents and relayed messages inline). */
function walk(options: readonly Dhcp6Option[], visit: (o: Dhcp6Option) => void): void {
  for (const o of options) {
    visit(o);
    if (o.kind === 'ia-na' || o.kind === 'ia-ta' || o.kind === 'ia-pd' || o.kind === 'iaaddr') walk(o.options, visit);
    if (o.kind === 'relay-msg') walk(o.message.options, visit);
  }
}

function summary(p: Dhcp6Packet): Record<string, string> {
  const types: number[] = [];
  for (let q: Dhcp6Packet | undefined = p; q;) {
    types.push(q.msgType);
    q = q.kind === 'relay' ? findOption(q.options, 'relay-msg')?.message : undefined;
  }
  const codes: number[] = [];
  const addrs: string[] = [];
  const macs: string[] = [];
  const iaids: string[] = [];
  const enterprises: number[] = [];
  const vendorData: string[] = [];
  walk(p.options, (o) => {
    codes.push(optionCode(o));
    if (o.kind === 'iaaddr') addrs.push(o.address);
    if (o.kind === 'client-id' || o.kind === 'server-id') {
      const d = parseDuid(o.duid);
      if (d.type === 'llt') macs.push([...d.linkLayer].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    }
    if (o.kind === 'ia-na') iaids.push(o.iaid.toString(16).padStart(8, '0'));
    if (o.kind === 'vendor-class') {
      enterprises.push(o.enterprise);
      vendorData.push(...o.data.map((d) => d.toString('latin1')));
    }
  });
  const inner = unwrapRelays(p);
  const relay = p.kind === 'relay' ? p : undefined;
  return {
    'dhcpv6.msgtype': types.join(','),
    'dhcpv6.xid': inner ? '0x' + inner.message.transactionId.toString(16).padStart(6, '0') : '',
    'dhcpv6.option.type': codes.join(','),
    'dhcpv6.iaaddr.ip': addrs.join(','),
    'dhcpv6.duidllt.link_layer_addr': macs.join(','),
    'dhcpv6.iaid': iaids.join(','),
    'dhcpv6.peeraddr': relay?.peerAddress ?? '',
    'dhcpv6.linkaddr': relay?.linkAddress ?? '',
    'dhcpv6.vendorclass.enterprise': enterprises.join(','),
    'dhcpv6.vendorclass.data': vendorData.join(','),
  };
}

test('every captured DHCPv6 message decodes to what tshark decoded, and re-encodes to the same bytes', () => {
  const all = rows();
  assert.ok(all.length >= 24, `expected the dhclient and relay captures, found ${all.length} rows`);
  for (const row of all) {
    const buf = load(row.file!);
    const p = decode(buf);
    const ours = summary(p);
    for (const [field, want] of Object.entries(row)) {
      if (field === 'file' || field === 'ipv6.src' || field === 'ipv6.dst') continue;
      assert.equal(ours[field], want, `${row.file}: ${field}`);
    }
    assert.deepEqual(encode(p), buf, `${row.file}: round trip`);
    assert.equal(encodingLength(p), buf.length, `${row.file}: encodingLength`);
  }
});

test('dhclient -6: DUID-LLT carries its MAC, Solicit asks for DNS and domain list, Reply carries a status', () => {
  const solicit = decode(load('dhclient-01-1.hex'));
  assert.equal(solicit.kind, 'message');
  const cid = findOption(solicit.options, 'client-id')!;
  assert.equal(duidMac(cid.duid), '52:54:00:d6:00:01');
  assert.deepEqual(findOption(solicit.options, 'oro')?.codes, [23, 24]);
  assert.equal(findOption(solicit.options, 'elapsed-time')?.centiseconds, 0);
  const ia = findOption(solicit.options, 'ia-na')!;
  assert.equal(ia.iaid, 0x00d60001);
  assert.deepEqual([ia.t1, ia.t2], [3600, 5400]);
  const reply = decode(load('dhclient-08-7.hex'));
  assert.deepEqual(findOption(reply.options, 'status-code'), {
    kind: 'status-code',
    status: 0,
    message: 'all addresses still on link',
  });
  const info = decode(load('dhclient-12-7.hex'));
  assert.equal(findOption(info.options, 'information-refresh-time')?.seconds, 600);
});

test('relay: Relay-forward wraps the Solicit with hop count 0, link and peer address', () => {
  const fw = decode(load('relay-02-12.hex'));
  assert.equal(fw.kind, 'relay');
  if (fw.kind !== 'relay') return;
  assert.equal(fw.hopCount, 0);
  const un = unwrapRelays(fw)!;
  assert.equal(un.relays.length, 1);
  assert.equal(un.message.msgType, 1);
  assert.deepEqual(un.message, decode(load('relay-01-1.hex')), 'the relayed Solicit is the one on the LAN');
});
