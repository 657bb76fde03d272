/**
 * rack-labels, tested the way a plugin package tests itself: pxekit/testing drives the real DHCP and
 * HTTP pipelines, and its command runs in-process as `pxekit racks` would.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { definePlugin, runPluginCommand } from 'pxekit';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import templates from 'pxekit/plugins/templates';
import { createTestServer, pxeClient } from 'pxekit/testing';
import rackLabels from './index.js';

const RACKS = { '52:54:00:12:34:56': 'r1', '52:54:00:ab:*': 'r2' };
const CONFIG = fileURLToPath(new URL('./pxekit.config.mjs', import.meta.url));

test('clients are labelled with their rack; templates see {{rack}}; events are counted per rack', async (t) => {
  const labels = rackLabels({ racks: RACKS });
  const s = await createTestServer({
    plugins: [labels, bootByArch(), templates({ files: { '/rack/{{mac_hex}}.txt': { inline: 'rack={{rack}}' } } })],
  });
  t.after(() => s.close());
  const r1 = await s.boot(pxeClient('uefi64', { mac: '52:54:00:12:34:56' }));
  assert.equal(r1.bootFile, 'ipxe.efi');
  assert.equal(s.server.sessions.get('52:54:00:12:34:56')?.labels['rack'], 'r1');
  await s.boot(pxeClient('bios', { mac: '52:54:00:ab:00:01' }));
  assert.equal(s.server.sessions.get('52:54:00:ab:00:01')?.labels['rack'], 'r2', 'a MAC pattern');
  await s.boot(pxeClient('bios', { mac: '02:00:00:00:00:09' }));
  assert.equal(s.server.sessions.get('02:00:00:00:00:09')?.labels['rack'], 'unracked');
  const page = await s.http('/rack/525400ab0001.txt');
  assert.equal(page.status, 200);
  assert.equal(page.body.toString(), 'rack=r2');
  assert.ok((labels.counts.get('r1') ?? 0) > 0);
});

test('other plugins reach the rack table through ctx.use, declared as a dependency', async (t) => {
  let rackOf: ((mac: string) => string) | undefined;
  const consumer = definePlugin({
    name: 'rack-consumer',
    dependencies: ['rack-labels'],
    apply(_server, { use }) {
      rackOf = (mac) => use('racks').rackOf(mac);
    },
  });
  const s = await createTestServer({ plugins: [rackLabels({ racks: RACKS }), consumer] });
  t.after(() => s.close());
  assert.equal(rackOf?.('52-54-00-AB-CD-EF'), 'r2');
});

test('a bad MAC pattern stops the server, naming the entry', async () => {
  await assert.rejects(createTestServer({ plugins: [rackLabels({ racks: { 'not-a-mac': 'r9' } })] }), /not-a-mac/);
});

test('pxekit racks: the table from the config, or one MAC; usage errors exit 2', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) };
  assert.equal(await runPluginCommand(['racks', '--config', CONFIG], io), 0, err.join('\n'));
  assert.deepEqual(out, ['52:54:00:12:34:56  r1', '52:54:00:ab:*  r2', '*  unracked']);
  out.length = 0;
  assert.equal(await runPluginCommand(['racks', '52:54:00:ab:00:07', '--config', CONFIG], io), 0);
  assert.deepEqual(out, ['r2']);
  assert.equal(await runPluginCommand(['racks', 'nope', '--config', CONFIG], io), 2);
  assert.match(err.pop() ?? '', /Usage: pxekit racks/);
});
