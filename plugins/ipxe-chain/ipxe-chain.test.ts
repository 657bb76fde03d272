import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'pxekit';
import { decide, fixtureContext, stripIpxe } from '../../test/unit/boot/helpers.js';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import ipxeChain from './index.js';

const quiet = { log: { level: 'silent' as const }, dhcp: { mode: 'off' as const }, tftp: { enabled: false } };

test('iPXE second stage (user class iPXE / 175) gets the script URL, never a binary again', async (t) => {
  const server = createServer({
    ...quiet,
    http: { enabled: false, baseUrl: 'http://10.77.0.1' },
    plugins: [
      ipxeChain({
        script: '/boot.ipxe?mac=${mac}&arch=${buildarch}',
        binaries: { bios: 'undionly.kpxe', uefi64: 'snponly.efi' },
      }),
      bootByArch(),
    ],
  });
  t.after(() => server.close());
  const bios = await decide(server, fixtureContext(server, 'bios-ipxe-rom-discover'));
  assert.equal(bios.boot?.file, 'http://10.77.0.1/boot.ipxe?mac=52:54:00:77:b1:05&arch=${buildarch}');
  assert.equal(bios.boot?.decidedBy, 'ipxe-chain');
  const efi = await decide(server, fixtureContext(server, 'uefi-ipxe-efi-discover'));
  assert.match(efi.boot?.file ?? '', /^http:\/\/10\.77\.0\.1\/boot\.ipxe\?mac=52:54:00:77:ef:64/);
});

test('raw PXE ROMs get the configured iPXE binary over TFTP; HTTP boot gets a URL', async (t) => {
  const server = createServer({
    ...quiet,
    http: { enabled: false, baseUrl: 'http://10.77.0.1' },
    plugins: [
      ipxeChain({ binaries: { bios: 'undionly.kpxe', uefi64: 'snponly.efi', uefiHttp64: 'ipxe.efi' } }),
      bootByArch(),
    ],
  });
  t.after(() => server.close());
  const raw = await decide(server, fixtureContext(server, 'bios-ipxe-rom-discover', { edit: stripIpxe }));
  assert.deepEqual([raw.boot?.file, raw.boot?.decidedBy], ['undionly.kpxe', 'ipxe-chain']);
  const edk2 = await decide(server, fixtureContext(server, 'uefi-edk2-discover'));
  assert.deepEqual([edk2.boot?.file, edk2.boot?.decidedBy], ['snponly.efi', 'ipxe-chain']);
  const http = await decide(server, fixtureContext(server, 'uefi-httpboot-discover'));
  assert.equal(http.boot?.file, 'http://10.77.0.1/ipxe.efi');
  const arm = await decide(server, fixtureContext(server, 'arm64-edk2-discover'));
  assert.deepEqual(
    [arm.boot?.file, arm.boot?.decidedBy],
    ['snp-arm64.efi', 'boot-by-arch'],
    'no arm64 binary configured: boot-by-arch answers',
  );
});

test('without binaries, raw ROMs fall through to boot-by-arch; without a base URL the script goes over TFTP', async (t) => {
  const server = createServer({
    ...quiet,
    http: { enabled: false, port: 8080 },
    plugins: [ipxeChain(), bootByArch()],
  });
  t.after(() => server.close());
  const raw = await decide(server, fixtureContext(server, 'uefi-edk2-discover'));
  assert.deepEqual([raw.boot?.file, raw.boot?.decidedBy], ['ipxe.efi', 'boot-by-arch']);
  const ipxe = await decide(server, fixtureContext(server, 'uefi-ipxe-efi-discover', { local: {} }));
  assert.deepEqual([ipxe.boot?.file, ipxe.boot?.decidedBy], ['boot.ipxe', 'ipxe-chain']);
  const local = await decide(
    server,
    fixtureContext(server, 'uefi-ipxe-efi-discover', { local: { address: '10.77.0.1' } }),
  );
  assert.equal(local.boot?.file, 'http://10.77.0.1:8080/boot.ipxe');
});
