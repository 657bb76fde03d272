import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startExample } from '../example-server.js';
import { loadFixture } from '../../test/helpers/fixtures.js';
import { decodeDhcp, encodeDhcp, pxeClient } from 'pxekit/testing';

const CONFIG = fileURLToPath(new URL('./pxekit.config.yaml', import.meta.url));
const LOCAL = { local: { address: '10.77.0.1', interface: 'eth0' } };

const bootFile = (p: { options: Map<number, Buffer>; file: string }) => p.options.get(67)?.toString() || p.file;
async function text(f: { open(): Promise<NodeJS.ReadableStream> } | undefined): Promise<string | undefined> {
  if (!f) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await f.open()) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

test('secure-boot: UEFI x64 and arm64 get the signed shim, BIOS (iPXE) its script URL', async (t) => {
  const ex = await startExample(t, CONFIG);
  const [x64] = await ex.server.inject.dhcp(loadFixture('uefi-edk2-discover'), LOCAL);
  assert.equal(bootFile(x64!.packet), 'shimx64.efi');
  const [aa64] = await ex.server.inject.dhcp(loadFixture('arm64-edk2-discover'), LOCAL);
  assert.equal(bootFile(aa64!.packet), 'shimaa64.efi');
  const [bios] = await ex.server.inject.dhcp(loadFixture('bios-ipxe-rom-discover'), LOCAL);
  assert.match(bootFile(bios!.packet), /^http:\/\/10\.77\.0\.1(:\d+)?\/boot\.ipxe$/);
});

test("secure-boot: GRUB's config names answer per host, with that host's kernel (x64 or arm64)", async (t) => {
  const ex = await startExample(t, CONFIG);
  const x64 = decodeDhcp(loadFixture('uefi-edk2-discover'));
  const aa64 = decodeDhcp(loadFixture('arm64-edk2-discover'));
  const [ox64] = await ex.server.inject.dhcp(loadFixture('uefi-edk2-discover'), LOCAL);
  await ex.server.inject.dhcp(loadFixture('arm64-edk2-discover'), LOCAL);
  // The REQUEST that makes the offered address the client's lease (what GRUB's TFTP requests come from).
  const client = pxeClient('uefi64', { mac: x64.mac });
  const [ack] = await ex.server.inject.dhcp(encodeDhcp(client.request(ox64!.packet.yiaddr, '10.77.0.1')), LOCAL);
  assert.equal(ack?.packet.yiaddr, ox64!.packet.yiaddr);
  const dashes = (mac: string) => mac.replaceAll(':', '-');

  const byMac = await text(
    await ex.server.files.resolve(`/grub/grub.cfg-01-${dashes(aa64.mac)}`, { protocol: 'tftp' }),
  );
  assert.match(byMac ?? '', /linux \/linux\/aa64\/vmlinuz console=ttyAMA0 quiet pxekit\.mac=/);
  assert.match(byMac ?? '', /initrd \/linux\/aa64\/initrd\.img/);

  // Debian's GRUB asks only /grub/grub.cfg: the client is found by its address (here: the offered one).
  const ip = ox64!.packet.yiaddr;
  const hex = ip
    .split('.')
    .map((n) => Number(n).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
  for (const name of ['/grub/grub.cfg', `/grub/grub.cfg-${hex}`, `/grub/grub.cfg-${hex.slice(0, 5)}`]) {
    const cfg = await text(await ex.server.files.resolve(name, { protocol: 'tftp', clientAddress: ip }));
    assert.match(
      cfg ?? '',
      new RegExp(`GRUB config for ${x64.mac} \\(x64-uefi, ${ip.replaceAll('.', '\\.')}\\)`),
      name,
    );
    assert.match(cfg ?? '', /linux \/linux\/x64\/vmlinuz console=ttyS0 quiet/, name);
  }
  // Over HTTP too (a GRUB with an http module, or a person checking what a host would get).
  const res = await ex.server.inject.http({ path: `/grub/grub.cfg-01-${dashes(x64.mac)}`, remoteAddress: ip });
  assert.equal(res.status, 200);
  assert.match(res.body.toString(), /linux \/linux\/x64\/vmlinuz/);
});
