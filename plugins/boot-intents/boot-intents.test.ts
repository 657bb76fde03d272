import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type PxeServer, runPluginCommand } from 'pxekit';
import { createTestServer, type TestServer } from 'pxekit/testing';
import { fixturePacket, stripIpxe, withMac } from '../../test/helpers/fixtures.js';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import ipxeChain from 'pxekit/plugins/ipxe-chain';
import bootIntents from './index.js';

const MAC = '52:54:00:77:b1:05';
const quiet = {
  log: { level: 'silent' as const },
  dhcp: { mode: 'off' as const },
  tftp: { enabled: false },
  http: { enabled: false, baseUrl: 'http://10.77.0.1' },
};

async function tmp(t: { after(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'intents-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function makeServer(file: string) {
  return createTestServer({
    http: { baseUrl: 'http://10.77.0.1' },
    plugins: [bootIntents({ file, pollMs: 100 }), ipxeChain({ binaries: { bios: 'undionly.kpxe' } }), bootByArch()],
  });
}

/** The boot decision the real DHCP pipeline records for a captured packet. */
const boot = async (s: TestServer, ...[name, ...edits]: Parameters<typeof fixturePacket>) =>
  (await s.dhcp(fixturePacket(name, ...edits))).boot;

/** Waits (bounded) until the condition holds. */
async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 30));
  assert.ok(cond(), what);
}

function fetched(server: PxeServer, type: 'tftp.done' | 'http.get', path: string) {
  const session = server.sessions.get(MAC)!;
  server.emit({
    type,
    protocol: type === 'tftp.done' ? 'tftp' : 'http',
    outcome: 'ok',
    mac: MAC,
    session,
    data: { path, bytes: 100 },
  });
}

test('a one-shot MAC netboots once (through the iPXE chain), then gets noBoot — also after a restart', async (t) => {
  const file = join(await tmp(t), 'intents.json');
  const plugin = bootIntents({ file, pollMs: 100 });
  const s = await createTestServer({
    http: { baseUrl: 'http://10.77.0.1' },
    plugins: [plugin, ipxeChain({ binaries: { bios: 'undionly.kpxe' } }), bootByArch()],
  });
  const server = s.server;
  t.after(() => s.close());
  assert.equal(plugin.intents, server.provided.get('intents'));
  await server.provided.get('intents')!.set(MAC, 'once');

  // Boot 1: raw ROM → undionly.kpxe (a chain loader: not the end), iPXE → script (the end).
  const raw = await boot(s, 'bios-ipxe-rom-discover', stripIpxe);
  assert.equal(raw?.file, 'undionly.kpxe');
  fetched(server, 'tftp.done', '/undionly.kpxe');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(
    server.provided.get('intents')!.get(MAC)?.state,
    'once',
    'fetching the iPXE binary does not use the one-shot',
  );
  const ipxe = await boot(s, 'bios-ipxe-rom-discover');
  assert.equal(ipxe?.file, 'http://10.77.0.1/boot.ipxe');
  fetched(server, 'http.get', '/boot.ipxe');
  await until(() => server.provided.get('intents')!.get(MAC)?.state === 'done', 'the script fetch uses the one-shot');

  // Boot 2: no netboot.
  const again = await s.dhcp(fixturePacket('bios-ipxe-rom-discover', stripIpxe));
  assert.equal(again.boot?.noBoot, true);
  assert.equal(again.boot?.decidedBy, 'boot-intents');
  assert.match(again.boot?.reason ?? '', /one-shot boot of 52:54:00:77:b1:05 already used/);
  assert.equal(again.reply, undefined, 'noBoot: the proxy does not answer');
  await s.close();

  const persisted = JSON.parse(await readFile(file, 'utf8')) as { intents: Record<string, { state: string }> };
  assert.equal(persisted.intents[MAC]?.state, 'done');
  const restarted = await makeServer(file);
  t.after(() => restarted.close());
  assert.equal((await boot(restarted, 'uefi-edk2-discover', withMac(MAC)))?.noBoot, true);
});

test('"never" gives noBoot at once; a direct non-iPXE loader (pxelinux.0) uses a one-shot when fetched', async (t) => {
  const s = await createTestServer({ plugins: [bootIntents(), bootByArch({ bios: 'pxelinux.0' })] });
  const server = s.server;
  t.after(() => s.close());
  await server.provided.get('intents')!.set('52-54-00-77-EF-64', 'never');
  const never = await s.dhcp(fixturePacket('uefi-edk2-discover'));
  assert.deepEqual(
    [never.boot?.noBoot, never.boot?.reason],
    [true, 'boot intent "never" for 52:54:00:77:ef:64: do not netboot'],
  );
  await server.provided.get('intents')!.set(MAC, 'once');
  assert.equal((await boot(s, 'bios-ipxe-rom-discover', stripIpxe))?.file, 'pxelinux.0');
  fetched(server, 'tftp.done', 'pxelinux.0');
  await until(() => server.provided.get('intents')!.get(MAC)?.state === 'done', 'pxelinux.0 ends the chain');
  assert.equal(await server.provided.get('intents')!.clear(MAC), true);
  assert.equal((await boot(s, 'bios-ipxe-rom-discover', stripIpxe))?.file, 'pxelinux.0', 'cleared: netboots again');
});

test('pxekit intent set/list/clear edit the file from the config; the running server reloads it', async (t) => {
  const dir = await tmp(t);
  const config = join(dir, 'pxekit.config.json');
  await writeFile(
    config,
    JSON.stringify({
      dhcp: { mode: 'off' },
      tftp: { enabled: false },
      http: { enabled: false },
      plugins: [['boot-intents', { file: './intents.json', pollMs: 100 }]],
    }),
  );
  const server = createServer({ ...quiet, plugins: [bootIntents({ file: join(dir, 'intents.json'), pollMs: 100 })] });
  await server.start();
  t.after(() => server.close());
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) };
  assert.equal(
    await runPluginCommand(['intent', 'set', '52:54:00:AA:BB:CC', 'never', '--config', config], io),
    0,
    err.join('\n'),
  );
  assert.equal(out.pop(), '52:54:00:aa:bb:cc never');
  await until(
    () => server.provided.get('intents')!.get('52:54:00:aa:bb:cc')?.state === 'never',
    'the server sees the CLI change',
  );
  assert.equal(await runPluginCommand(['intent', 'list', '--config', config], io), 0);
  assert.match(out.pop() ?? '', /^52:54:00:aa:bb:cc {2}never {2}set /);
  assert.equal(await runPluginCommand(['intent', 'clear', '52:54:00:aa:bb:cc', '--config', config], io), 0);
  await until(
    () => server.provided.get('intents')!.get('52:54:00:aa:bb:cc') === undefined,
    'the server sees the clear',
  );
  assert.equal(await runPluginCommand(['intent', 'set', 'nope', 'once', '--config', config], io), 1);
  assert.match(err.pop() ?? '', /"nope" is not a MAC address/);
  assert.equal(await runPluginCommand(['intent', 'set', '52:54:00:aa:bb:cc', 'twice', '--config', config], io), 2);
});

test('a malformed intents file stops the start (it could netboot machines marked never)', async (t) => {
  const file = join(await tmp(t), 'intents.json');
  await writeFile(file, '{ "intents": ');
  const server = createServer({ ...quiet, plugins: [bootIntents({ file })] });
  await assert.rejects(server.start(), /not valid JSON/);
});
