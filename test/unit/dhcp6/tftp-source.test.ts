/** When the boot URLs' address shares its link with other global addresses, the server warns (docs/ipv6.md). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { nativeListen } from '../../../core/native/listen-socket.js';
import { nativeUdp } from '../../../core/native/udp-socket.js';
import { otherSourcesBeside, TftpSourceWatch } from '../../../core/services/dhcp6-tftp-source.js';

test('a second global address beside the boot URL address is reported; a lone one, or another link, is not', () => {
  const links = [
    { name: 'eth0', global: ['fd77::a446:fcff:fee1:77cc', 'fd77::1'] },
    { name: 'eth1', global: ['fd78::1'] },
  ];
  assert.deepEqual(otherSourcesBeside(links, 'FD77:0::1'), {
    interface: 'eth0',
    others: ['fd77::a446:fcff:fee1:77cc'],
  });
  assert.equal(otherSourcesBeside(links, 'fd78::1'), undefined);
  assert.equal(otherSourcesBeside(links, 'fd99::1'), undefined, 'an address on no local link');
});

test('the watch re-checks at most every everyMs and warns once per set of other addresses', () => {
  const lines: Array<{ event?: string; others?: string[] }> = [];
  const log = { warn: (o: { event?: string; others?: string[] }) => lines.push(o) } as unknown as Logger;
  let global = ['fd77::1'];
  const links = () => [{ name: 'eth0', global }];
  const w = new TftpSourceWatch(60_000);
  w.check(0, links, 'fd77::1', log);
  assert.equal(lines.length, 0, 'one address: nothing to say');
  global = ['fd77::1', 'fd77::a446:fcff:fee1:77cc']; // the SLAAC address appears after start
  w.check(30_000, links, 'fd77::1', log);
  assert.equal(lines.length, 0, 'not re-checked within the minute');
  w.check(60_000, links, 'fd77::1', log);
  w.check(120_000, links, 'fd77::1', log);
  assert.deepEqual(
    lines.map((l) => [l.event, l.others]),
    [['dhcp6.tftp.ambiguous', ['fd77::a446:fcff:fee1:77cc']]],
  );
});

test('on the native TFTP transport the watch stays quiet: transfers answer from the address asked', () => {
  const lines: unknown[] = [];
  const log = { warn: (o: unknown) => lines.push(o) } as unknown as Logger;
  const links = () => [{ name: 'eth0', global: ['fd77::1', 'fd77::a446:fcff:fee1:77cc'] }];
  new TftpSourceWatch(0).check(0, links, 'fd77::1', log, { transport: 'dgram', singlePort: false });
  new TftpSourceWatch(0).check(0, links, 'fd77::1', log, { transport: 'auto', singlePort: true });
  assert.equal(lines.length, 2, 'node:dgram and single-port mode cannot choose the source: warned');
  new TftpSourceWatch(0).check(0, links, 'fd77::1', log, { transport: 'auto', singlePort: false });
  const native = nativeListen().available && nativeUdp().available;
  assert.equal(lines.length, native ? 2 : 3, native ? 'native: nothing to say' : 'no addon: warned');
});
