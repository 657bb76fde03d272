import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'pxekit';
import { createTestServer, type TestServer } from 'pxekit/testing';
import { fixturePacket, stripIpxe, withArch } from '../../test/helpers/fixtures.js';
import bootByArch from './index.js';

const quiet = { log: { level: 'silent' as const }, dhcp: { mode: 'off' as const }, tftp: { enabled: false } };
const local = { address: '10.99.0.1' };
/** The boot decision the real DHCP pipeline records for a captured packet. */
const boot = async (s: TestServer, ...[name, ...edits]: Parameters<typeof fixturePacket>) =>
  (await s.dhcp(fixturePacket(name, ...edits), { local })).boot;

test('defaults: BIOS, x64 UEFI 7 and 9, arm64, ia32', async (t) => {
  const server = await createTestServer({ plugins: [bootByArch()] });
  t.after(() => server.close());
  assert.equal((await boot(server, 'bios-ipxe-rom-discover', stripIpxe))?.file, 'undionly.kpxe');
  assert.equal((await boot(server, 'uefi-edk2-discover'))?.file, 'ipxe.efi');
  assert.equal((await boot(server, 'uefi-edk2-discover', withArch(9)))?.file, 'ipxe.efi');
  assert.equal((await boot(server, 'arm64-edk2-discover'))?.file, 'snp-arm64.efi');
  assert.equal((await boot(server, 'uefi-edk2-discover', withArch(6)))?.file, 'ipxe-ia32.efi');
});

test('UEFI HTTP boot (16, 19) gets a full URL: baseUrl, else the local address and port', async (t) => {
  const withBase = await createTestServer({ http: { baseUrl: 'http://boot.lab:8080/' }, plugins: [bootByArch()] });
  const noBase = await createTestServer({
    http: { port: 8081 },
    plugins: [bootByArch({ uefiHttpArm64: 'http://mirror/arm.efi' })],
  });
  t.after(() => Promise.all([withBase.close(), noBase.close()]));
  const x64 = await boot(withBase, 'uefi-httpboot-discover');
  assert.equal(x64?.file, 'http://boot.lab:8080/ipxe.efi');
  assert.equal(x64?.decidedBy, 'boot-by-arch');
  const offer = await withBase.dhcp(fixturePacket('uefi-httpboot-discover'), { local });
  assert.equal(offer.bootFile, 'http://boot.lab:8080/ipxe.efi', 'and the offer carries it');
  const arrived = { local: { address: '10.77.0.1' } };
  assert.equal(
    (await noBase.dhcp(fixturePacket('uefi-httpboot-discover'), arrived)).boot?.file,
    'http://10.77.0.1:8081/ipxe.efi',
  );
  assert.equal((await boot(noBase, 'arm64-httpboot-discover'))?.file, 'http://mirror/arm.efi');
  // The address the request arrived on is unknown (a socket on 0.0.0.0 that could not tell): no URL.
  const unknown = await noBase.dhcp(fixturePacket('uefi-httpboot-discover'), { local: { address: '0.0.0.0' } });
  assert.equal(unknown.boot, undefined, 'no URL can be built: no boot info');
  assert.equal(unknown.reply, undefined);
  assert.ok(
    unknown.events.some((e) => e.type === 'dhcp.noboot'),
    'the pipeline asked, and no plugin could answer',
  );
});

test('table keys: names, raw numbers beat names, unknown arch gives no boot', async (t) => {
  const server = await createTestServer({ plugins: [bootByArch({ uefi64: 'snponly.efi', '9': 'ipxe9.efi' })] });
  t.after(() => server.close());
  assert.equal((await boot(server, 'uefi-edk2-discover'))?.file, 'snponly.efi');
  assert.equal((await boot(server, 'uefi-edk2-discover', withArch(9)))?.file, 'ipxe9.efi');
  assert.equal(await boot(server, 'uefi-edk2-discover', withArch(33)), undefined);
  const dhclient = await server.dhcp(fixturePacket('dhclient-discover'), { local });
  assert.deepEqual([dhclient.boot, dhclient.reply], [undefined, undefined], 'no option 93: not a PXE client');
});

test('options are validated', () => {
  assert.throws(
    () => createServer({ ...quiet, http: { enabled: false }, plugins: [bootByArch({ x86: 'a' } as never)] }),
    /x86/,
  );
});
