import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startExample } from '../example-server.js';
import { loadFixture } from '../../test/helpers/fixtures.js';
import { decodeDhcp, encodeDhcp } from 'pxekit';

const CONFIG = fileURLToPath(new URL('./pxekit.config.yaml', import.meta.url));
const LOCAL = { local: { address: '10.77.0.1', interface: 'eth0' } };

/** A real client's DISCOVER with another MAC. */
function discoverFrom(fixture: string, mac: string): Buffer {
  const p = decodeDhcp(loadFixture(fixture));
  return encodeDhcp({
    ...p,
    chaddr: Buffer.concat([Buffer.from(mac.replaceAll(':', ''), 'hex'), Buffer.alloc(10)]),
    mac,
  });
}

test('full-dhcp: a reserved MAC gets its fixed address and the script URL', async (t) => {
  const ex = await startExample(t, CONFIG);
  const [offer] = await ex.server.inject.dhcp(discoverFrom('bios-ipxe-rom-discover', '52:54:00:e2:e0:01'), LOCAL);
  assert.ok(offer, 'an offer');
  assert.equal(offer.packet.yiaddr, '10.77.0.10');
  const file = offer.packet.options.get(67)?.toString() || offer.packet.file;
  assert.match(file, /^http:\/\/10\.77\.0\.1(:\d+)?\/boot\.ipxe$/);
});

test('full-dhcp: an unknown VM gets a pool address; a MAC outside the allowlist gets nothing', async (t) => {
  const ex = await startExample(t, CONFIG);
  const [offer] = await ex.server.inject.dhcp(discoverFrom('uefi-edk2-discover', '52:54:00:aa:bb:cc'), LOCAL);
  assert.ok(offer, 'an offer');
  const last = Number(offer.packet.yiaddr.split('.')[3]);
  assert.ok(offer.packet.yiaddr.startsWith('10.77.0.') && last >= 100 && last <= 199, offer.packet.yiaddr);
  assert.equal(offer.packet.options.get(67)?.toString() || offer.packet.file, 'ipxe.efi');

  const denied = await ex.server.inject.dhcp(discoverFrom('uefi-edk2-discover', '02:00:00:00:00:99'), LOCAL);
  assert.deepEqual(denied, []);
  assert.ok(ex.events('admit.deny').some((l) => String(l['reason']).includes('not in allowlist')));
});

test(
  'full-dhcp: ipxe.efi is served although Debian installs it as a symlink out of /usr/lib/ipxe',
  { skip: !existsSync('/boot/ipxe.efi') && 'Debian package ipxe not installed' },
  async (t) => {
    const ex = await startExample(t, CONFIG);
    // Straight to the file sources: over HTTP the allowlist refuses a client with no DHCP session (403).
    const f = await ex.server.files.resolve('/ipxe.efi', { protocol: 'tftp' });
    assert.ok(f, 'found');
    assert.equal(f.size, statSync('/boot/ipxe.efi').size);
    assert.equal(f.source, 'source-disk#ipxe', 'through the symlink (followSymlinks: any), no mount of /boot');
    assert.equal(
      await ex.server.files.resolve('/ipxe.lkrn', { protocol: 'tftp' }),
      undefined,
      'include keeps the other links out',
    );
    assert.equal(
      (await ex.server.inject.http({ method: 'HEAD', path: '/ipxe.efi', remoteAddress: '10.77.0.99' })).status,
      403,
      'unknown client: denied',
    );
  },
);
