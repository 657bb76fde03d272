/**
 * Golden decodes of the real captures in the shared fixtures, checked against the `decoded` summary
 * written independently (from tshark) in fixtures/index.json, plus decode → encode → decode round trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, encodingLength } from '../../../core/dhcp/codec.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { messageTypeName, wantsBroadcast } from '../../../core/dhcp/packet.js';
import { fixtureFiles, fixtureIndex, loadFixture } from '../../helpers/fixtures.js';

/** Parses ``DISCOVER; xid 0x...; opt93=0; opt60=`x`; yiaddr=...; options 53,57`` into a key → value map. */
function parseSummary(decoded: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = decoded.split('; ');
  out.set('type', parts[0]!);
  for (const part of parts.slice(1)) {
    const m = /^(xid|options) (.*)$/.exec(part) ?? /^([a-z0-9]+)=(.*)$/.exec(part);
    assert.ok(m, `unparsed summary part '${part}'`);
    out.set(m[1]!, m[2]!.replace(/^`|`$/g, ''));
  }
  return out;
}

test('every DHCP fixture decodes to the fields its index entry lists', () => {
  const entries = fixtureIndex('dhcp');
  assert.equal(entries.length, fixtureFiles('dhcp').length, 'index.json lists every dhcp fixture');
  let checked = 0;
  for (const entry of entries) {
    const buf = loadFixture(entry.file);
    assert.equal(buf.length, entry.bytes, entry.file);
    const p = decode(buf);
    const want = parseSummary(entry.decoded);
    const at = `${entry.file}: `;
    assert.equal(messageTypeName(getOption(p, 53)), want.get('type'), at + 'message type');
    assert.equal(p.xid, Number.parseInt(want.get('xid')!, 16), at + 'xid');
    assert.deepEqual([...p.options.keys()], want.get('options')!.split(',').map(Number), at + 'option order');
    for (const [key, value] of want) {
      if (key === 'yiaddr' || key === 'siaddr' || key === 'file') assert.equal(p[key], value, at + key);
      if (key === 'opt93') assert.deepEqual(getOption(p, 93), [Number(value)], at + key);
      if (key === 'opt60') assert.equal(getOption(p, 60), value, at + key);
      if (key === 'opt77') assert.equal(p.options.get(77)?.toString('latin1'), value, at + key);
      if (key === 'opt67') assert.equal(getOption(p, 67), value, at + key);
      checked++;
    }
    assert.equal(p.op, entry.file.includes('dnsmasq') || entry.file.includes('site-dhcp') ? 2 : 1, at + 'op');
    assert.equal(p.htype, 1);
    assert.equal(p.hlen, 6);
    assert.match(p.mac, /^52:54:00(:[0-9a-f]{2}){3}$/, at + 'mac');
  }
  assert.ok(checked > entries.length * 3);
});

test('fixture details beyond the index: MACs, flags, ciaddr, 97 and 67 as sent', () => {
  const edk2 = decode(loadFixture('uefi-edk2-discover'));
  assert.equal(edk2.mac, '52:54:00:77:ef:64');
  assert.equal(edk2.flags, 0x8000, 'EDK2 sets the broadcast flag');
  assert.equal(wantsBroadcast(edk2), true);
  assert.deepEqual(edk2.options.get(97), Buffer.alloc(17), 'EDK2 sends a zero UUID in 97');
  const rom = decode(loadFixture('bios-ipxe-rom-discover'));
  assert.equal(rom.mac, '52:54:00:77:b1:05');
  assert.equal(rom.flags, 0, 'the iPXE ROM does not set the broadcast flag');
  assert.equal(wantsBroadcast(rom), false);
  const req4011 = decode(loadFixture('uefi-edk2-request-4011'));
  assert.equal(req4011.ciaddr, '10.99.0.210');
  const offer = decode(loadFixture('dnsmasq-offer-uefi-edk2'));
  assert.deepEqual(offer.options.get(67), Buffer.from('ipxe.efi\0'), 'dnsmasq NUL-terminates option 67');
  assert.equal(getOption(offer, 54), '10.77.0.1');
  assert.equal(getOption(offer, 1), '255.255.255.0');
  assert.equal(typeof getOption(offer, 51), 'number');
  const dhclient = decode(loadFixture('dhclient-release'));
  assert.equal(dhclient.ciaddr, '10.99.0.250');
  assert.equal(getOption(dhclient, 53), 7);
  const proxyAck = decode(loadFixture('dnsmasq-proxy-ack-4011-uefi-edk2'));
  assert.notEqual(proxyAck.sname, '', 'dnsmasq puts its host name in sname');
});

test('every DHCP fixture round-trips decode → encode → decode, byte-exact', () => {
  for (const file of fixtureFiles('dhcp')) {
    const buf = loadFixture(file);
    const p = decode(buf);
    const out = encode(p);
    assert.equal(encodingLength(p), out.length, `${file}: encodingLength`);
    // The captures have no pad options and no bytes after a field's NUL, so re-encoding is exact.
    assert.ok(out.equals(buf), `${file}: re-encoded bytes differ`);
    const again = decode(out);
    assert.deepEqual({ ...again, chaddr: [...again.chaddr] }, { ...p, chaddr: [...p.chaddr] }, `${file}: fields`);
  }
});
