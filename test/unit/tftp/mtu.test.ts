import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import ipaddr from 'ipaddr.js';
import { interfaceFor, ipv4Number, matchIpv4, mtuBlksizeFor } from '../../../core/tftp/mtu.js';

const hasSys = existsSync('/sys/class/net/lo/mtu');

test(
  'blksize cap = interface MTU − 32 for the interface holding the client',
  { skip: !hasSys && 'no /sys/class/net (not Linux)' },
  () => {
    assert.equal(interfaceFor('127.0.0.1'), 'lo');
    assert.equal(interfaceFor('::ffff:127.0.0.1'), 'lo');
    const mtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));
    assert.equal(mtuBlksizeFor('127.0.0.1'), mtu - 20 - 8 - 4);
  },
);

test('unknown or unparsable client addresses give no cap', () => {
  assert.equal(mtuBlksizeFor('not-an-ip'), undefined);
  assert.equal(mtuBlksizeFor('203.0.113.9'), undefined); // TEST-NET-3: on no local subnet
});

test('IPv4 clients are matched as integers, as ipaddr.js would match them', () => {
  assert.equal(ipv4Number('10.78.1.2'), (10 << 24) + (78 << 16) + (1 << 8) + 2);
  assert.equal(ipv4Number('255.255.255.255'), 2 ** 32 - 1);
  assert.equal(ipv4Number('::ffff:10.0.0.5'), ipv4Number('10.0.0.5'));
  assert.equal(ipv4Number('::FFFF:10.0.0.5'), ipv4Number('10.0.0.5'));
  // Anything but plain decimal dotted quads goes to ipaddr.js (which reads 010 as octal, 0x as hex).
  for (const a of ['010.0.0.1', '0x0a.0.0.1', '1.2.3', '1.2.3.4.5', '1.2.3.256', '1.2.3.4 ', '', 'fe80::1', '::1'])
    assert.equal(ipv4Number(a), undefined, a);
  const cidrs: [string, string][] = [
    ['a', '192.168.1.0/24'],
    ['b', '10.0.0.0/8'],
    ['c', '10.78.0.0/16'],
    ['d', '172.16.5.4/32'],
    ['e', '0.0.0.0/0'],
  ];
  const v4 = cidrs.map(([name, c]) => {
    const [net, bits] = ipaddr.parseCIDR(c);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return { name, base: (ipv4Number(net.toString())! & mask) >>> 0, mask };
  });
  const byIpaddr = (addr: string, upTo: number) => {
    const a = ipaddr.process(addr);
    return cidrs.slice(0, upTo).find(([, c]) => a.match(ipaddr.parseCIDR(c)))?.[0];
  };
  for (const addr of ['192.168.1.77', '192.168.2.1', '10.78.3.4', '10.1.2.3', '172.16.5.4', '172.16.5.5', '8.8.8.8']) {
    for (const upTo of [4, 5])
      assert.equal(matchIpv4(ipv4Number(addr)!, v4.slice(0, upTo)), byIpaddr(addr, upTo), addr);
  }
});
