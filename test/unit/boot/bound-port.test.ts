import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from 'pxekit';
import ipxeChain from 'pxekit/plugins/ipxe-chain';
import { fixturePacket } from '../../helpers/fixtures.js';

test('boot URLs use the HTTP port actually bound when the config says 0', async (t) => {
  const server = createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'proxy', port: 0, pxePort: 0, address: '127.0.0.1' },
    tftp: { enabled: false },
    http: { port: 0, address: '127.0.0.1' },
    plugins: [ipxeChain({ script: '/boot.ipxe' })],
  });
  await server.start();
  t.after(() => server.close());
  const port = server.listening.find((l) => l.protocol === 'http')!.port;
  assert.notEqual(port, 0);
  const [offer] = await server.inject.dhcp(fixturePacket('uefi-ipxe-efi-discover'), {
    local: { address: '127.0.0.1' },
  });
  assert.equal(
    offer?.packet.options.get(67)?.toString('latin1').replace(/\0+$/, ''),
    `http://127.0.0.1:${port}/boot.ipxe`,
  );
});
