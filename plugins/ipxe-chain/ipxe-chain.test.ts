import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestServer, type TestServer } from 'pxekit/testing';
import { fixturePacket, stripIpxe } from '../../test/helpers/fixtures.js';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import ipxeChain from './index.js';

/** The boot decision the real DHCP pipeline records for a captured packet (arrived at 10.99.0.1 unless told). */
const boot = async (s: TestServer, name: string, o: { edit?: typeof stripIpxe; local?: { address: string } } = {}) =>
  (await s.dhcp(fixturePacket(name, ...(o.edit ? [o.edit] : [])), { local: o.local ?? { address: '10.99.0.1' } })).boot;

test('iPXE second stage (user class iPXE / 175) gets the script URL, never a binary again', async (t) => {
  const server = await createTestServer({
    http: { baseUrl: 'http://10.77.0.1' },
    plugins: [
      ipxeChain({
        script: '/boot.ipxe?mac=${mac}&arch=${buildarch}',
        binaries: { bios: 'undionly.kpxe', uefi64: 'snponly.efi' },
      }),
      bootByArch(),
    ],
  });
  t.after(() => server.close());
  const bios = await boot(server, 'bios-ipxe-rom-discover');
  assert.equal(bios?.file, 'http://10.77.0.1/boot.ipxe?mac=52:54:00:77:b1:05&arch=${buildarch}');
  assert.equal(bios?.decidedBy, 'ipxe-chain');
  const efi = await boot(server, 'uefi-ipxe-efi-discover');
  assert.match(efi?.file ?? '', /^http:\/\/10\.77\.0\.1\/boot\.ipxe\?mac=52:54:00:77:ef:64/);
});

test('raw PXE ROMs get the configured iPXE binary over TFTP; HTTP boot gets a URL', async (t) => {
  const server = await createTestServer({
    http: { baseUrl: 'http://10.77.0.1' },
    plugins: [
      ipxeChain({ binaries: { bios: 'undionly.kpxe', uefi64: 'snponly.efi', uefiHttp64: 'ipxe.efi' } }),
      bootByArch(),
    ],
  });
  t.after(() => server.close());
  const raw = await boot(server, 'bios-ipxe-rom-discover', { edit: stripIpxe });
  assert.deepEqual([raw?.file, raw?.decidedBy], ['undionly.kpxe', 'ipxe-chain']);
  const edk2 = await boot(server, 'uefi-edk2-discover');
  assert.deepEqual([edk2?.file, edk2?.decidedBy], ['snponly.efi', 'ipxe-chain']);
  const http = await boot(server, 'uefi-httpboot-discover');
  assert.equal(http?.file, 'http://10.77.0.1/ipxe.efi');
  const arm = await boot(server, 'arm64-edk2-discover');
  assert.deepEqual(
    [arm?.file, arm?.decidedBy],
    ['snp-arm64.efi', 'boot-by-arch'],
    'no arm64 binary configured: boot-by-arch answers',
  );
});

test('without binaries, raw ROMs fall through to boot-by-arch; without a base URL the script goes over TFTP', async (t) => {
  const server = await createTestServer({ http: { port: 8080 }, plugins: [ipxeChain(), bootByArch()] });
  t.after(() => server.close());
  const raw = await boot(server, 'uefi-edk2-discover');
  assert.deepEqual([raw?.file, raw?.decidedBy], ['ipxe.efi', 'boot-by-arch']);
  // The address the request arrived on is unknown (0.0.0.0): no base URL, so the script name for TFTP.
  const ipxe = await boot(server, 'uefi-ipxe-efi-discover', { local: { address: '0.0.0.0' } });
  assert.deepEqual([ipxe?.file, ipxe?.decidedBy], ['boot.ipxe', 'ipxe-chain']);
  const local = await boot(server, 'uefi-ipxe-efi-discover', { local: { address: '10.77.0.1' } });
  assert.equal(local?.file, 'http://10.77.0.1:8080/boot.ipxe');
});
