import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'pxekit';
import { createTestServer } from 'pxekit/testing';
import { fixturePacket, requestFrom } from '../../test/helpers/fixtures.js';
import macAllowlist from './index.js';

const quiet = {
  log: { level: 'silent' as const },
  dhcp: { mode: 'off' as const },
  tftp: { enabled: false },
  http: { enabled: false },
};

test('allowlisted MAC is admitted on every protocol; an unknown MAC is denied on every protocol', async (t) => {
  const server = await createTestServer({ plugins: [macAllowlist({ allow: ['52-54-00-77-EF-64'] })] });
  t.after(() => server.close());
  const known = await requestFrom(server, 'uefi-edk2-discover', '10.77.0.128');
  assert.equal(known.denied, undefined);
  assert.ok(
    known.events.some((e) => e.type === 'dhcp.noboot'),
    'admitted: on to the boot decision',
  );
  const unknown = await requestFrom(server, 'bios-ipxe-rom-discover', '10.77.0.165');
  assert.deepEqual(unknown.denied, { reason: 'mac 52:54:00:77:b1:05 not in allowlist', plugin: 'mac-allowlist' });
  // TFTP and HTTP from the unknown MAC's address: the session maps it to the MAC, which is denied.
  const from = server.events.length;
  const tftp = await server.tftp({ path: '/undionly.kpxe', remoteAddress: '10.77.0.165' });
  assert.equal(tftp.ok, false);
  assert.match(tftp.errorMessage ?? '', /denied|not in allowlist/i);
  assert.equal((await server.http({ path: '/undionly.kpxe', remoteAddress: '10.77.0.165' })).status, 403);
  const denials = server.events.slice(from).filter((e) => e.type === 'admit.deny');
  assert.deepEqual(
    denials.map((e) => [e.protocol, e.plugin, e.mac]),
    [
      ['tftp', 'mac-allowlist', '52:54:00:77:b1:05'],
      ['http', 'mac-allowlist', '52:54:00:77:b1:05'],
    ],
  );
  // The known MAC's address gets past admit: the file is just missing (no file source configured).
  const knownTftp = await server.tftp({ path: '/undionly.kpxe', remoteAddress: '10.77.0.128' });
  assert.equal(knownTftp.errorCode, 1, knownTftp.errorMessage);
  assert.equal((await server.http({ path: '/undionly.kpxe', remoteAddress: '10.77.0.128' })).status, 404);
});

test('a TFTP/HTTP client with no session is denied unless allowUnknownIp', async (t) => {
  const strict = createServer({ ...quiet, plugins: [macAllowlist({ allow: ['52:54:00:*'] })] });
  const lax = createServer({ ...quiet, plugins: [macAllowlist({ allow: ['52:54:00:*'], allowUnknownIp: true })] });
  t.after(() => Promise.all([strict.close(), lax.close()]));
  const r = await strict.admit({ protocol: 'http', ip: '10.0.0.9', path: '/boot.ipxe' });
  assert.equal(r.allowed, false);
  assert.match(r.reason ?? '', /no known MAC for 10\.0\.0\.9/);
  assert.equal((await lax.admit({ protocol: 'http', ip: '10.0.0.9', path: '/boot.ipxe' })).allowed, true);
});

test('unknown: { boot } admits unknown MACs and gives them the default boot first', async (t) => {
  const server = await createTestServer({
    plugins: [macAllowlist({ allow: ['52:54:00:77:ef:64'], unknown: { boot: 'menu.ipxe' } })],
  });
  t.after(() => server.close());
  const unknown = await server.dhcp(fixturePacket('bios-ipxe-rom-discover'));
  assert.equal(unknown.denied, undefined);
  assert.equal(unknown.boot?.file, 'menu.ipxe');
  assert.equal(unknown.boot?.decidedBy, 'mac-allowlist');
  assert.equal(unknown.bootFile, 'menu.ipxe', 'the offer carries it');
  const known = await server.dhcp(fixturePacket('uefi-edk2-discover'));
  assert.equal(known.boot, undefined, 'known MACs fall through to other plugins');
});

test('bad pattern in options fails apply; bad file line is skipped with file:line', async (t) => {
  assert.throws(() => createServer({ ...quiet, plugins: [macAllowlist({ allow: ['52:54:zz'] })] }), /52:54:zz/);
  const dir = await mkdtemp(join(tmpdir(), 'allowlist-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'allow.txt');
  await writeFile(file, '# lab machines\n52:54:00:77:ef:64  # uefi\nnot-a-mac\n\n');
  const lines: Array<Record<string, unknown>> = [];
  const { default: pino } = await import('pino');
  const logger = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  const server = createServer({ ...quiet, logger, plugins: [macAllowlist({ file, pollMs: 100 })] });
  await server.start();
  t.after(() => server.close());
  const bad = lines.find((l) => l['event'] === 'allowlist.line.invalid');
  assert.equal(bad?.['where'], `${file}:3`);
  assert.equal((await server.admit({ protocol: 'dhcp', mac: '52:54:00:77:ef:64' })).allowed, true);
});

test('allowlist file is reloaded when it changes (rename-over, as editors and tools write)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'allowlist-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'allow.txt');
  await writeFile(file, '52:54:00:00:00:01\n');
  const server = createServer({ ...quiet, plugins: [macAllowlist({ file, pollMs: 100 })] });
  await server.start();
  t.after(() => server.close());
  assert.equal((await server.admit({ protocol: 'dhcp', mac: '52:54:00:00:00:02' })).allowed, false);
  await writeFile(`${file}.tmp`, '52:54:00:00:00:01\n52:54:00:00:00:02\n');
  await rename(`${file}.tmp`, file);
  let allowed = false;
  for (let i = 0; i < 100 && !allowed; i++) {
    await new Promise((r) => setTimeout(r, 50));
    allowed = (await server.admit({ protocol: 'dhcp', mac: '52:54:00:00:00:02' })).allowed;
  }
  assert.equal(allowed, true, 'the new entry is admitted after the reload');
});
