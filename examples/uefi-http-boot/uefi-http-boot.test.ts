import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startExample } from '../example-server.js';
import { loadFixture } from '../../test/helpers/fixtures.js';

const CONFIG = fileURLToPath(new URL('./pxekit.config.yaml', import.meta.url));
const LOCAL = { local: { address: '10.77.0.1', interface: 'eth0' } };

for (const [fixture, arch, url] of [
  ['uefi-httpboot-discover', 16, 'http://10.77.0.1/snponly.efi'],
  ['arm64-httpboot-discover', 19, 'http://10.77.0.1/snp-arm64.efi'],
] as const) {
  test(`uefi-http-boot: arch ${arch} gets a URL and HTTPClient echoed`, async (t) => {
    const ex = await startExample(t, CONFIG);
    const [offer] = await ex.server.inject.dhcp(loadFixture(fixture), LOCAL);
    assert.ok(offer, 'an offer');
    assert.equal(offer.packet.options.get(60)?.toString(), 'HTTPClient');
    assert.equal(offer.packet.options.get(67)?.toString() || offer.packet.file, url);
  });
}

test('uefi-http-boot: the iPXE script is served over HTTP', async (t) => {
  const ex = await startExample(t, CONFIG);
  const res = await ex.server.inject.http({ path: '/boot.ipxe' });
  assert.equal(res.status, 200);
  assert.match(res.body.toString(), /PXEKIT-BOOT-OK/);
});
