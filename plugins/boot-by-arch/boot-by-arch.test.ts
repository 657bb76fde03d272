import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'pxekit';
import { decide, fixtureContext, stripIpxe } from '../../test/unit/boot/helpers.js';
import bootByArch from './index.js';

const quiet = { log: { level: 'silent' as const }, dhcp: { mode: 'off' as const }, tftp: { enabled: false } };

function setArch(arch: number) {
  return (p: import('pxekit').DhcpPacket) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(arch);
    p.options.set(93, b);
    p.options.set(60, Buffer.from(`PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003000`));
  };
}

test('defaults: BIOS, x64 UEFI 7 and 9, arm64, ia32', async (t) => {
  const server = createServer({ ...quiet, http: { enabled: false }, plugins: [bootByArch()] });
  t.after(() => server.close());
  const file = async (fixture: string, edit?: (p: import('pxekit').DhcpPacket) => void) =>
    (await decide(server, fixtureContext(server, fixture, edit ? { edit } : {}))).boot?.file;
  assert.equal(await file('bios-ipxe-rom-discover', stripIpxe), 'undionly.kpxe');
  assert.equal(await file('uefi-edk2-discover'), 'ipxe.efi');
  assert.equal(await file('uefi-edk2-discover', setArch(9)), 'ipxe.efi');
  assert.equal(await file('arm64-edk2-discover'), 'snp-arm64.efi');
  assert.equal(await file('uefi-edk2-discover', setArch(6)), 'ipxe-ia32.efi');
});

test('UEFI HTTP boot (16, 19) gets a full URL: baseUrl, else the local address and port', async (t) => {
  const withBase = createServer({
    ...quiet,
    http: { enabled: false, baseUrl: 'http://boot.lab:8080/' },
    plugins: [bootByArch()],
  });
  const noBase = createServer({
    ...quiet,
    http: { enabled: false, port: 8081 },
    plugins: [bootByArch({ uefiHttpArm64: 'http://mirror/arm.efi' })],
  });
  t.after(() => Promise.all([withBase.close(), noBase.close()]));
  const x64 = await decide(withBase, fixtureContext(withBase, 'uefi-httpboot-discover'));
  assert.equal(x64.boot?.file, 'http://boot.lab:8080/ipxe.efi');
  assert.equal(x64.boot?.decidedBy, 'boot-by-arch');
  assert.equal(
    (await decide(noBase, fixtureContext(noBase, 'uefi-httpboot-discover', { local: { address: '10.77.0.1' } }))).boot
      ?.file,
    'http://10.77.0.1:8081/ipxe.efi',
  );
  assert.equal(
    (await decide(noBase, fixtureContext(noBase, 'arm64-httpboot-discover'))).boot?.file,
    'http://mirror/arm.efi',
  );
  assert.equal(
    (await decide(noBase, fixtureContext(noBase, 'uefi-httpboot-discover', { local: {} }))).boot,
    undefined,
    'no URL can be built: no boot info',
  );
});

test('table keys: names, raw numbers beat names, unknown arch gives no boot', async (t) => {
  const server = createServer({
    ...quiet,
    http: { enabled: false },
    plugins: [bootByArch({ uefi64: 'snponly.efi', '9': 'ipxe9.efi' })],
  });
  t.after(() => server.close());
  assert.equal((await decide(server, fixtureContext(server, 'uefi-edk2-discover'))).boot?.file, 'snponly.efi');
  assert.equal(
    (await decide(server, fixtureContext(server, 'uefi-edk2-discover', { edit: setArch(9) }))).boot?.file,
    'ipxe9.efi',
  );
  assert.equal(
    (await decide(server, fixtureContext(server, 'uefi-edk2-discover', { edit: setArch(33) }))).boot,
    undefined,
  );
  assert.equal(
    (await decide(server, fixtureContext(server, 'dhclient-discover'))).boot,
    undefined,
    'no option 93: not a PXE client',
  );
});

test('options are validated', () => {
  assert.throws(
    () => createServer({ ...quiet, http: { enabled: false }, plugins: [bootByArch({ x86: 'a' } as never)] }),
    /x86/,
  );
});
