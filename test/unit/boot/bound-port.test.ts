import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from '../../../core/index.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import { fixtureContext } from './helpers.js';

test('boot URLs use the HTTP port actually bound when the config says 0', async (t) => {
  const server = createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { port: 0, address: '127.0.0.1' },
    plugins: [ipxeChain({ script: '/boot.ipxe' })],
  });
  await server.start();
  t.after(() => server.close());
  const port = server.listening.find((l) => l.protocol === 'http')!.port;
  assert.notEqual(port, 0);
  const spec = await server.dhcp.hooks.selectBoot.promise(
    fixtureContext(server, 'dhcp/uefi-ipxe-efi-discover.hex', { local: { address: '127.0.0.1' } }),
  );
  assert.equal(spec?.file, `http://127.0.0.1:${port}/boot.ipxe`);
});
