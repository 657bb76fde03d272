/**
 * The boot decision for each kind of client, through the real DHCP pipeline (server.inject.dhcp, proxy
 * mode) with the real captures, and the one-shot intent across DHCP and HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../core/dhcp/codec.js';
import type { DhcpPacket } from '../../../core/dhcp/packet.js';
import type { PluginDefinition } from '../../../core/plugin.js';
import { createServer } from '../../../core/create-server.js';
import type { PxeServer } from '../../../core/server.js';
import { loadFixture, stripIpxe } from '../../helpers/fixtures.js';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import bootIntents from '../../../plugins/boot-intents/index.js';
import hostProfiles from '../../../plugins/host-profiles/index.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import macAllowlist from '../../../plugins/mac-allowlist/index.js';

const local = { address: '10.99.0.1', interface: 'eth0' };

function packet(fixture: string, edit?: (p: DhcpPacket) => void): DhcpPacket {
  const p = decode(Buffer.from(loadFixture(fixture)));
  edit?.(p);
  return p;
}

function arch(n: number) {
  return (p: DhcpPacket) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    p.options.set(93, b);
    p.options.set(60, Buffer.from(`PXEClient:Arch:${String(n).padStart(5, '0')}:UNDI:003000`));
  };
}

/** The boot file a reply carries (option 67, else the BOOTP file field), or undefined without a reply. */
async function bootFile(
  server: PxeServer,
  p: DhcpPacket,
  port: 'dhcp' | 'bootserver' = 'dhcp',
): Promise<string | undefined> {
  const [reply] = await server.inject.dhcp(p, { port, local });
  if (!reply) return undefined;
  return reply.packet.options.get(67)?.toString('latin1').replace(/\0+$/, '') || reply.packet.file;
}

function makeServer(plugins: PluginDefinition[]) {
  return createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'proxy', port: 0, pxePort: 0 },
    tftp: { enabled: false },
    http: { port: 0, address: '127.0.0.1', baseUrl: 'http://10.99.0.1' },
    plugins,
  });
}

test('via inject: BIOS raw ROM, iPXE second stage, x64 UEFI 7 and 9, arm64 11, UEFI HTTP boot 16', async (t) => {
  const server = makeServer([ipxeChain({ binaries: { bios: 'undionly.kpxe' } }), bootByArch()]);
  t.after(() => server.close());
  assert.equal(await bootFile(server, packet('bios-ipxe-rom-discover', stripIpxe)), 'undionly.kpxe');
  assert.equal(
    await bootFile(server, packet('bios-ipxe-rom-discover')),
    'http://10.99.0.1/boot.ipxe',
    'iPXE gets its script, not undionly.kpxe again',
  );
  assert.equal(await bootFile(server, packet('uefi-edk2-request-4011'), 'bootserver'), 'ipxe.efi');
  assert.equal(await bootFile(server, packet('uefi-edk2-request-4011', arch(9)), 'bootserver'), 'ipxe.efi');
  assert.equal(await bootFile(server, packet('uefi-edk2-request-4011', arch(11)), 'bootserver'), 'snp-arm64.efi');
  const [http] = await server.inject.dhcp(packet('uefi-httpboot-discover'), { local });
  assert.equal(http?.packet.options.get(60)?.toString(), 'HTTPClient');
  assert.equal(await bootFile(server, packet('uefi-httpboot-discover')), 'http://10.99.0.1/ipxe.efi');
});

test('via inject: an unknown MAC with the allowlist on gets no DHCP answer, and a 403 over HTTP', async (t) => {
  const server = makeServer([macAllowlist({ allow: ['52:54:00:00:ef:64'] }), ipxeChain(), bootByArch()]);
  await server.start();
  t.after(() => server.close());
  assert.equal((await server.inject.dhcp(packet('bios-ipxe-rom-discover'), { local })).length, 0);
  assert.equal((await server.inject.http({ path: '/undionly.kpxe', remoteAddress: '10.99.0.50' })).status, 403);
  assert.equal(
    await bootFile(
      server,
      packet('proxy-uefi-edk2-discover', (p) => {
        p.options.set(77, Buffer.from('iPXE'));
      }),
    ),
    'http://10.99.0.1/boot.ipxe',
    'the allowed MAC is answered',
  );
});

test('via inject: a one-shot MAC boots once through DHCP → TFTP → iPXE → HTTP script, then gets no answer', async (t) => {
  const server = makeServer([
    bootIntents(),
    ipxeChain({ binaries: { bios: 'undionly.kpxe' } }),
    hostProfiles({
      groups: [{ name: 'all', selector: {}, profile: 'install' }],
      profiles: { install: { kernel: '/vmlinuz', initrd: [], cmdline: '', vars: {} } },
    }),
    bootByArch(),
  ]);
  await server.start();
  t.after(() => server.close());
  const mac = '52:54:00:77:b1:05';
  await server.provided.get('intents')!.set(mac, 'once');
  assert.equal(await bootFile(server, packet('bios-ipxe-rom-discover', stripIpxe)), 'undionly.kpxe');
  server.emit({
    type: 'tftp.done',
    protocol: 'tftp',
    outcome: 'ok',
    mac,
    session: server.sessions.get(mac)!,
    data: { path: '/undionly.kpxe', bytes: 1 },
  });
  assert.equal(await bootFile(server, packet('bios-ipxe-rom-discover')), 'http://10.99.0.1/boot.ipxe');
  assert.equal(server.provided.get('intents')!.get(mac)?.state, 'once');
  const script = await server.inject.http({ path: `/boot.ipxe?mac=${mac}`, remoteAddress: '10.99.0.165' });
  assert.equal(script.status, 200);
  assert.match(script.body.toString(), /kernel \/vmlinuz/);
  for (let i = 0; i < 100 && server.provided.get('intents')!.get(mac)?.state !== 'done'; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.provided.get('intents')!.get(mac)?.state, 'done');
  assert.equal(
    (await server.inject.dhcp(packet('bios-ipxe-rom-discover', stripIpxe), { local })).length,
    0,
    'second boot: no proxy answer',
  );
});
