/** The boot-decision plugins through the real HTTP handler (server.inject.http, no socket). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestServer } from 'pxekit/testing';
import { requestFrom } from '../../helpers/fixtures.js';
import macAllowlist from '../../../plugins/mac-allowlist/index.js';
import hostProfiles from '../../../plugins/host-profiles/index.js';
import templates from '../../../plugins/templates/index.js';
import bootByArch from '../../../plugins/boot-by-arch/index.js';

test('HTTP: per-host script and generated configs; template error → 500; denied or unknown client → 403', async (t) => {
  const server = await createTestServer({
    http: { baseUrl: 'http://10.77.0.1' },
    plugins: [
      macAllowlist({ allow: ['52:54:00:77:ef:64'] }),
      hostProfiles({
        groups: [{ name: 'all', selector: {}, profile: 'p' }],
        profiles: { p: { kernel: '/vmlinuz', initrd: ['/initrd'], cmdline: 'quiet', vars: {} } },
      }),
      templates({ files: { '/broken.ipxe': { inline: '#!ipxe\n\nchain {{boot.nothere}}\n' } } }),
      bootByArch(),
    ],
  });
  t.after(() => server.close());
  await requestFrom(server, 'uefi-edk2-discover', '10.77.0.128');
  assert.ok((await requestFrom(server, 'bios-ipxe-rom-discover', '10.77.0.165')).denied);

  const script = await server.http({ path: '/boot.ipxe', remoteAddress: '10.77.0.128' });
  assert.equal(script.status, 200);
  assert.equal(
    script.body.toString(),
    '#!ipxe\n# pxekit host-profiles: p for 52:54:00:77:ef:64\nkernel /vmlinuz quiet\ninitrd /initrd\nboot\n',
  );

  const pxe = await server.http({ path: '/pxelinux.cfg/01-52-54-00-77-ef-64', remoteAddress: '10.77.0.128' });
  assert.equal(pxe.status, 200);
  assert.equal(Number(pxe.headers['content-length']), pxe.body.length);
  assert.match(pxe.body.toString(), /APPEND initrd=\/initrd quiet/);

  assert.equal((await server.http({ path: '/broken.ipxe', remoteAddress: '10.77.0.128' })).status, 500);
  assert.equal(
    (await server.http({ path: '/boot.ipxe', remoteAddress: '10.77.0.165' })).status,
    403,
    'MAC not in the allowlist',
  );
  assert.equal(
    (await server.http({ path: '/boot.ipxe', remoteAddress: '10.9.9.9' })).status,
    403,
    'no session for this IP',
  );
});
