/**
 * pxekit/testing itself: the docs/plugins.md example as written, full-mode DORA, TFTP and HTTP through
 * the real services, and the fake clock with a plugin whose behaviour depends on time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin, STAGE_FIRST } from 'pxekit';
import { createTestServer, pxeClient, useFakeClock } from 'pxekit/testing';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import sourceDisk from 'pxekit/plugins/source-disk';

interface Options {
  deny: string[];
}

// The plugin of docs/plugins.md "Writing a plugin".
function denyList(options: Partial<Options> = {}) {
  return definePlugin<Options>({
    name: 'deny-list',
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { deny: { type: 'array', items: { type: 'string' }, default: [], description: 'MACs to refuse' } },
    },
    apply(server, { options }) {
      const denied = new Set(options.deny.map((m) => m.toLowerCase()));
      server.hooks.admit.tapPromise({ name: 'deny-list', stage: STAGE_FIRST }, async (req) =>
        req.mac && denied.has(req.mac) ? { deny: `mac ${req.mac} is on the deny list` } : undefined,
      );
    },
  });
}

test('docs/plugins.md example: listed MACs get no boot', async (t) => {
  const s = await createTestServer({ plugins: [denyList({ deny: ['52:54:00:aa:bb:cc'] }), bootByArch()] });
  t.after(() => s.close());
  const denied = await s.boot(pxeClient('uefi64', { mac: '52:54:00:aa:bb:cc' }));
  assert.deepEqual(denied.denied, { reason: 'mac 52:54:00:aa:bb:cc is on the deny list', plugin: 'deny-list' });
  assert.equal(denied.reply, undefined);
  const ok = await s.boot(pxeClient('uefi64'));
  assert.equal(ok.bootFile, 'ipxe.efi');
  assert.equal(ok.boot?.decidedBy, 'boot-by-arch');
  assert.equal(ok.steps.length, 2, 'UEFI ROM: proxy offer without a file, then the 4011 REQUEST');
  assert.equal((await s.http('/boot.ipxe?mac=52:54:00:aa:bb:cc')).status, 403);
});

test('per arch: BIOS boots from the first offer; HTTP boot gets a URL; full mode hands out an address', async (t) => {
  const s = await createTestServer({ plugins: [bootByArch()], http: { baseUrl: 'http://192.0.2.1' } });
  t.after(() => s.close());
  const bios = await s.boot(pxeClient('bios'));
  assert.deepEqual([bios.bootFile, bios.steps.length, bios.nextServer], ['undionly.kpxe', 1, '192.0.2.1']);
  assert.equal((await s.boot(pxeClient('arm64'))).bootFile, 'snp-arm64.efi');
  assert.equal((await s.boot(pxeClient('uefiHttp64'))).bootFile, 'http://192.0.2.1/ipxe.efi');
  assert.throws(() => pxeClient('sparc' as never), /unknown arch "sparc"/);

  const full = await createTestServer({
    plugins: [bootByArch()],
    dhcp: {
      mode: 'full',
      pools: [{ subnet: '192.0.2.0/24', range: ['192.0.2.100', '192.0.2.110'] }],
    },
  });
  t.after(() => full.close());
  const r = await full.boot(pxeClient('bios', { mac: '52:54:00:00:10:01' }));
  assert.equal(r.steps.length, 2, 'DISCOVER → OFFER, REQUEST → ACK');
  assert.equal(r.reply?.options.get(53)?.[0], 5, 'ACK');
  assert.equal(r.address, '192.0.2.100');
  assert.equal(r.bootFile, 'undionly.kpxe');
  assert.ok(full.events.some((e) => e.type === 'dhcp.ack' && e.mac === '52:54:00:00:10:01'));
});

test('TFTP and HTTP reads go through the file sources', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pxekit-testing-'));
  writeFileSync(join(root, 'ipxe.efi'), 'EFI'.repeat(1000));
  const s = await createTestServer({ plugins: [sourceDisk({ root })] });
  t.after(() => s.close());
  const tftp = await s.tftp({ path: 'ipxe.efi', options: { blksize: '1468', tsize: '0' } });
  assert.deepEqual([tftp.ok, tftp.data?.length, tftp.oack?.['tsize']], [true, 3000, '3000']);
  assert.equal((await s.tftp('missing.efi')).errorCode, 1);
  const http = await s.http({ path: '/ipxe.efi', headers: { range: 'bytes=0-2' } });
  assert.deepEqual([http.status, http.body.toString()], [206, 'EFI']);
});

test('fake clock: a plugin that admits a MAC for 60 s after it was first seen', async (t) => {
  const clock = useFakeClock(t);
  const firstSeen = new Map<string, number>();
  const window = definePlugin({
    name: 'first-minute',
    apply(server) {
      server.hooks.admit.tapPromise('first-minute', async (req) => {
        if (!req.mac) return undefined;
        const at = firstSeen.get(req.mac) ?? Date.now();
        firstSeen.set(req.mac, at);
        return Date.now() - at > 60_000 ? { deny: 'window closed' } : undefined;
      });
    },
  });
  const s = await createTestServer({ plugins: [window, bootByArch()] });
  t.after(() => s.close());
  const client = pxeClient('bios');
  assert.equal((await s.boot(client)).bootFile, 'undionly.kpxe');
  await clock.advance(59_000, 1000);
  assert.equal((await s.boot(client)).denied, undefined);
  await clock.advance(2_000);
  assert.deepEqual((await s.boot(client)).denied, { reason: 'window closed', plugin: 'first-minute' });
  let fired = 0;
  setTimeout(() => void Promise.resolve().then(() => fired++), 500);
  await clock.advance(499);
  assert.equal(fired, 0);
  await clock.advance(1);
  assert.equal(fired, 1, 'a timer and the promise it starts both ran');
});
