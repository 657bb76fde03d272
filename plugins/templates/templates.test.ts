import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createServer, PxeError } from 'pxekit';
import { createTestServer, useFakeClock } from 'pxekit/testing';
import { requestFrom } from '../../test/helpers/fixtures.js';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import templates from './index.js';

const quiet = {
  dhcp: { mode: 'off' as const },
  tftp: { enabled: false },
  http: { enabled: false, baseUrl: 'http://10.77.0.1' },
};

async function tmp(t: { after(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'templates-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    logger: pino(
      { level: 'info' },
      { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
    ),
  };
}

test('per-host iPXE script over HTTP and pxelinux 01-<mac> over TFTP, with session variables', async (t) => {
  const dir = await tmp(t);
  await writeFile(
    join(dir, 'boot.ipxe.hbs'),
    '#!ipxe\necho {{mac}} {{archName}} {{firmware}} via {{server.baseUrl}}\nchain {{boot.file}}\n',
  );
  await writeFile(
    join(dir, 'pxelinux.hbs'),
    'DEFAULT local\n# {{mac_dashes}} {{ip}} {{#if hostname}}{{hostname}}{{else}}nohost{{/if}}\n',
  );
  const server = await createTestServer({
    http: { baseUrl: 'http://10.77.0.1' },
    plugins: [
      bootByArch(),
      templates({
        dir,
        files: {
          '/boot.ipxe': 'boot.ipxe.hbs',
          '/pxelinux.cfg/01-{{mac_dashes}}': 'pxelinux.hbs',
          '/inline.txt': { inline: 'hi {{mac_hex}}', contentType: 'text/x-test' },
        },
      }),
    ],
  });
  t.after(() => server.close());
  await requestFrom(server, 'uefi-edk2-discover', '10.77.0.128');

  const script = await server.http({ path: '/boot.ipxe', remoteAddress: '10.77.0.128' });
  assert.equal(
    script.body.toString(),
    '#!ipxe\necho 52:54:00:77:ef:64 x64-uefi uefi via http://10.77.0.1\nchain ipxe.efi\n',
  );
  assert.equal(
    (await server.http({ path: '/inline.txt', remoteAddress: '10.77.0.128' })).headers['content-type'],
    'text/x-test',
  );
  assert.equal(
    (await server.http({ path: '/boot.ipxe', remoteAddress: '10.1.1.1' })).status,
    404,
    'no session: not templated',
  );

  const file = await server.tftp({ path: '/pxelinux.cfg/01-52-54-00-77-ef-64', options: { tsize: '0' } });
  const text = file.data?.toString();
  assert.equal(text, 'DEFAULT local\n# 52-54-00-77-ef-64 10.77.0.128 nohost\n');
  assert.equal(file.oack?.['tsize'], String(Buffer.byteLength(text ?? '')));
  assert.equal((await server.tftp('/pxelinux.cfg/01-52-54-00-77-ef')).errorCode, 1);
});

test('a client is templated while its session lives (sessions.ttlSeconds), then falls through', async (t) => {
  const clock = useFakeClock(t);
  const server = await createTestServer({
    sessions: { ttlSeconds: 60 },
    plugins: [templates({ files: { '/hello.ipxe': { inline: '#!ipxe\necho {{mac}}\n' } } })],
  });
  t.after(() => server.close());
  await requestFrom(server, 'uefi-edk2-discover', '10.77.0.128');
  const get = () => server.http({ path: '/hello.ipxe', remoteAddress: '10.77.0.128' });
  await clock.advance(59_000, 1_000);
  assert.equal((await get()).body.toString(), '#!ipxe\necho 52:54:00:77:ef:64\n');
  await clock.advance(61_000, 1_000);
  assert.equal((await get()).status, 404, 'session expired: no client to template for');
});

test('a missing variable names the template file and line; logged as PXE_ERR_TEMPLATE; the HTTP answer is a 500', async (t) => {
  const dir = await tmp(t);
  await writeFile(join(dir, 'boot.ipxe.hbs'), '#!ipxe\necho ok\nkernel {{vars.kernel}}\nboot\n');
  const { lines, logger } = capture();
  const server = await createTestServer({
    logger,
    http: { baseUrl: 'http://10.77.0.1' },
    plugins: [templates({ dir, files: { '/boot.ipxe': 'boot.ipxe.hbs' } })],
  });
  t.after(() => server.close());
  await requestFrom(server, 'uefi-edk2-discover', '10.77.0.128');
  assert.equal((await server.http({ path: '/boot.ipxe', remoteAddress: '10.77.0.128' })).status, 500);
  const error = server.events.find((e) => e.type === 'http.error');
  assert.equal(error?.plugin, 'templates');
  assert.match(String(error?.data['message']), /template boot\.ipxe\.hbs line 3: "kernel" not defined/);
  const logged = lines.find((l) => l['event'] === 'template.error');
  assert.equal(logged?.['code'], 'PXE_ERR_TEMPLATE');
  assert.equal(logged?.['line'], 3);
  assert.equal(logged?.['template'], 'boot.ipxe.hbs');
});

test('a syntax error fails the start, naming file and line; an edited file is recompiled', async (t) => {
  const dir = await tmp(t);
  const f = join(dir, 'grub.hbs');
  await writeFile(f, 'set timeout=1\n\n{{#if mac}}\nlinux /vmlinuz');
  await assert.rejects(
    createTestServer({ plugins: [templates({ dir, files: { '/grub/grub.cfg': 'grub.hbs' } })] }),
    (err: unknown) =>
      err instanceof PxeError && /template grub\.hbs line 4: Parse error: Expecting .*got 'EOF'/.test(err.message),
  );

  await writeFile(f, 'v1 {{mac}}\n');
  const server = await createTestServer({
    plugins: [templates({ dir, files: { '/grub/grub.cfg-{{mac}}': 'grub.hbs' } })],
  });
  t.after(() => server.close());
  const get = async () => (await server.tftp('/grub/grub.cfg-52:54:00:00:00:01')).data?.toString();
  assert.equal(await get(), 'v1 52:54:00:00:00:01\n');
  await writeFile(f, 'v2 is longer {{mac_hex}}\n');
  await utimes(f, new Date(), new Date(Date.now() + 5000));
  assert.equal(await get(), 'v2 is longer 525400000001\n');
});

test('bad path variables are refused at apply', () => {
  assert.throws(
    () =>
      createServer({
        ...quiet,
        log: { level: 'silent' },
        plugins: [templates({ files: { '/x-{{serial}}': { inline: 'x' } } })],
      }),
    /unknown path variable \{\{serial\}\}/,
  );
});
