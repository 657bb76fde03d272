import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startExample } from '../example-server.js';
import { loadFixture } from '../../test/helpers/fixtures.js';

const CONFIG = fileURLToPath(new URL('./pxekit.config.yaml', import.meta.url));
const LOCAL = { local: { address: '10.77.0.1', interface: 'eth0' } };
const hasIpxe = existsSync('/usr/lib/ipxe/snponly.efi');

test('quickstart: a BIOS iPXE ROM gets the script URL, and the script is rendered for it', async (t) => {
  const ex = await startExample(t, CONFIG);
  const [offer] = await ex.server.inject.dhcp(loadFixture('bios-ipxe-rom-discover'), LOCAL);
  assert.ok(offer, 'a ProxyDHCP offer');
  const mac = offer.packet.mac;
  const bootFile = offer.packet.options.get(67)?.toString() ?? offer.packet.file;
  // The port is the configured one (0 here: the test moved HTTP to an ephemeral port).
  assert.match(bootFile, new RegExp(`^http://10\\.77\\.0\\.1(:\\d+)?/boot\\.ipxe\\?mac=${mac}$`));

  const res = await ex.server.inject.http({ path: `/boot.ipxe?mac=${mac}`, remoteAddress: '10.77.0.150' });
  assert.equal(res.status, 200);
  const body = res.body.toString();
  assert.match(body, /^#!ipxe\n/);
  assert.match(body, /PXEKIT-BOOT-OK/);
  assert.match(body, new RegExp(`client {2}${mac} \\(bios-x86, bios`));
  assert.match(body, /chosen {2}http:\/\/10\.77\.0\.1(:\d+)?\/boot\.ipxe\?mac=.* by ipxe-chain/);
  assert.match(body, /imgfetch --name probe tftp:\/\/[0-9.]+\/tftp-probe\.txt/);
});

test('quickstart: a client without a session gets the static boot/boot.ipxe', async (t) => {
  const ex = await startExample(t, CONFIG);
  const res = await ex.server.inject.http({ path: '/boot.ipxe', remoteAddress: '10.77.0.151' });
  assert.equal(res.status, 200);
  assert.match(res.body.toString(), /static fallback/);
});

test(
  'quickstart: serves the iPXE binaries of /usr/lib/ipxe',
  { skip: !hasIpxe && 'Debian package ipxe not installed' },
  async (t) => {
    const ex = await startExample(t, CONFIG);
    const res = await ex.server.inject.http({ method: 'HEAD', path: '/snponly.efi' });
    assert.equal(res.status, 200);
    assert.ok(Number(res.headers['content-length']) > 100_000);
    assert.ok(ex.events('files.mount').some((l) => l['source'] === 'source-disk#ipxe'));
  },
);

test(
  'quickstart: serves ipxe.efi although Debian installs it as a symlink out of /usr/lib/ipxe',
  { skip: !existsSync('/boot/ipxe.efi') && 'Debian package ipxe not installed' },
  async (t) => {
    const ex = await startExample(t, CONFIG);
    const res = await ex.server.inject.http({ method: 'HEAD', path: '/ipxe.efi' });
    assert.equal(res.status, 200);
    assert.equal(Number(res.headers['content-length']), statSync('/boot/ipxe.efi').size);
    // include keeps the rest of the folder (the QEMU option ROMs, the ISO) out.
    assert.equal((await ex.server.inject.http({ method: 'HEAD', path: '/ipxe.iso' })).status, 404);
  },
);

test('quickstart: starts without the iPXE binaries and says what is missing', async (t) => {
  const ex = await startExample(t, CONFIG, {
    pluginOptions: { 'source-disk#ipxe': { root: '/nonexistent/pxekit-test/ipxe' } },
  });
  const [warn] = ex.events('files.mount.missing');
  assert.ok(warn, 'a files.mount.missing warning');
  assert.equal(warn['root'], '/nonexistent/pxekit-test/ipxe');
  assert.equal(warn['source'], 'source-disk#ipxe');
  assert.match(String(warn['fix']), /apt install ipxe/);
  assert.equal((await ex.server.inject.http({ path: '/tftp-probe.txt' })).status, 200, 'the rest still serves');
  assert.equal((await ex.server.inject.http({ method: 'HEAD', path: '/snponly.efi' })).status, 404);
});
