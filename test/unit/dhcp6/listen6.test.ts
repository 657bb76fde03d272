/** Which IPv6 address TFTP and HTTP listen on (`address6`), by config: set, defaulted while DHCPv6 runs, or none. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv6ListenAddress } from '../../../core/services/listen6.js';
import type { ServiceHost } from '../../../core/services/types.js';

const config = (dhcp6?: { mode: string; serverAddress?: string }) => ({ dhcp6 }) as unknown as ServiceHost['config'];

test('address6 as configured wins, whatever DHCPv6 does', () => {
  const full = config({ mode: 'full', serverAddress: 'fd77::1' });
  assert.equal(ipv6ListenAddress(full, { address6: 'fe80::1%eth0' }, 'tftp'), 'fe80::1%eth0');
  assert.equal(ipv6ListenAddress(config({ mode: 'off' }), { address6: '::' }, 'http'), '::');
});

test('while DHCPv6 runs: TFTP on dhcp6.serverAddress (the boot URLs name it), HTTP on ::', () => {
  const full = config({ mode: 'full', serverAddress: 'fd77::1' });
  assert.equal(ipv6ListenAddress(full, {}, 'tftp'), 'fd77::1');
  assert.equal(ipv6ListenAddress(full, {}, 'http'), '::');
  assert.equal(ipv6ListenAddress(config({ mode: 'boot-only' }), {}, 'tftp'), '::', 'no serverAddress: all');
});

test('DHCPv6 off: no IPv6 listener unless asked (IPv4 only, as before)', () => {
  assert.equal(ipv6ListenAddress(config({ mode: 'off' }), {}, 'tftp'), undefined);
  assert.equal(ipv6ListenAddress(config(undefined), {}, 'http'), undefined);
});
