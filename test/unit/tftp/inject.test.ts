/**
 * server.tftp.inject(): the request plan (admit, readRequest, resolve, negotiate) and the transfer run
 * without a socket, through the whole server (createServer + the real source-disk plugin).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Readable } from 'node:stream';
import { definePlugin } from '../../../core/plugin.js';
import macAllowlist from '../../../plugins/mac-allowlist/index.js';
import { startPxeTftp } from '../../helpers/tftp-pxe-server.js';

const BIG = randomBytes(300_000);

test('inject fetches a file with the negotiated options and records events and session bytes', async (t) => {
  const f = await startPxeTftp({ listen: false, files: { 'boot/ipxe.efi': BIG } });
  t.after(() => f.stop());
  const s = f.server.sessions.upsert('52:54:00:00:00:01', { ip: '127.0.0.1' });
  const r = await f.server.inject.tftp({
    path: '/boot/ipxe.efi',
    options: { blksize: '1468', tsize: '0', windowsize: '8' },
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(r.oack, { blksize: '1468', tsize: String(BIG.length), windowsize: '8' });
  assert.ok(r.data?.equals(BIG));
  const done = await f.waitEvent('tftp.done');
  assert.equal(done.outcome, 'ok');
  assert.equal(done.mac, '52:54:00:00:00:01');
  assert.equal(done.ip, '127.0.0.1');
  assert.equal(done.data.path, '/boot/ipxe.efi');
  assert.equal(done.data.bytes, BIG.length);
  assert.equal(done.data.blocks, Math.ceil(BIG.length / 1468));
  assert.equal(done.data.windowsize, 8);
  assert.equal(done.data.source, 'source-disk');
  assert.equal(s.bytes, BIG.length);
  assert.deepEqual(s.files, ['/boot/ipxe.efi']);
  assert.equal(s.stage, 'tftp');
  assert.deepEqual(
    f.events.filter((e) => e.protocol === 'tftp').map((e) => e.type),
    ['tftp.request', 'tftp.oack', 'tftp.done'],
  );
  const line = f.logs.filter((l) => l.event === 'tftp.done');
  assert.equal(line.length, 1, 'one info line per transfer');
  assert.equal(line[0]!.level, 30);
});

for (const level of ['warn', 'info'] as const) {
  test(`with no boot-event observer (log level ${level}) a transfer still records the session and logs as before`, async (t) => {
    const f = await startPxeTftp({
      listen: false,
      files: { 'boot/ipxe.efi': BIG },
      recordEvents: false,
      logLevel: level,
    });
    t.after(() => f.stop());
    assert.equal(f.server.observesBootEvents, false);
    const s = f.server.sessions.upsert('52:54:00:00:00:02', { ip: '127.0.0.1' });
    const r = await f.server.inject.tftp({ path: '/boot/ipxe.efi', options: { blksize: '1468', tsize: '0' } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.data?.equals(BIG));
    assert.equal(s.bytes, BIG.length);
    assert.deepEqual(s.files, ['/boot/ipxe.efi']);
    assert.equal(s.stage, 'tftp');
    const done = f.logs.filter((l) => l.event === 'tftp.done');
    if (level === 'info') {
      assert.equal(done.length, 1, 'the info line without observers');
      assert.equal(done[0]!.mac, '52:54:00:00:00:02');
      assert.equal(done[0]!.bytes, BIG.length);
    } else assert.equal(done.length, 0);
  });
}

test('inject without options is lock-step at 512 and sends no OACK; an exact multiple ends with an empty block', async (t) => {
  const data = randomBytes(512 * 4);
  const f = await startPxeTftp({ listen: false, files: { f: data } });
  t.after(() => f.stop());
  const r = await f.server.inject.tftp({ path: 'f' });
  assert.equal(r.ok, true);
  assert.equal(r.oack, undefined);
  assert.ok(r.data?.equals(data));
  assert.equal((await f.waitEvent('tftp.done')).data.blocks, 5);
});

test('inject refusals: not found (1), traversal (2), bad mode (4), too large (3)', async (t) => {
  const huge = definePlugin({
    name: 'huge-source',
    apply(server) {
      server.files.hooks.resolve.tapPromise('huge-source', async (req) =>
        req.path === '/huge'
          ? { path: req.path, size: 65 * 1024 * 1024, source: 'huge-source', open: async () => Readable.from([]) }
          : undefined,
      );
    },
  });
  const f = await startPxeTftp({ listen: false, files: { a: 'x' }, plugins: [huge] });
  t.after(() => f.stop());
  assert.deepEqual(await f.server.inject.tftp({ path: 'nope' }), {
    ok: false,
    errorCode: 1,
    errorMessage: 'file not found',
  });
  for (const p of ['../etc/passwd', '/a/../../x', '%2e%2e/a', '..\\..\\a']) {
    const r = await f.server.inject.tftp({ path: p });
    assert.equal(r.errorCode, 2, p);
    assert.equal(r.data, undefined);
  }
  assert.equal((await f.server.inject.tftp({ path: 'a', mode: 'mail' })).errorCode, 4);
  const big = await f.server.inject.tftp({ path: '/huge' });
  assert.equal(big.errorCode, 3);
  assert.match(big.errorMessage ?? '', /too large for inject/);
  assert.ok(f.events.some((e) => e.type === 'tftp.denied' && e.outcome === 'denied'));
  assert.ok(f.events.some((e) => e.type === 'tftp.error' && e.data.code === 1));
});

test('readRequest can deny or map (per-MAC folder); negotiate can clamp blksize', async (t) => {
  const policy = definePlugin({
    name: 'policy',
    apply(server) {
      server.tftp.hooks.readRequest.tapPromise('policy', async (req) => {
        if (req.path === '/secret') return { deny: 'not for you' };
        if (req.path === '/pxelinux.cfg/default' && req.session)
          return { path: `/hosts/${req.session.mac.replace(/:/g, '-')}/default` };
        return undefined;
      });
      server.tftp.hooks.negotiate.tap('policy', (n) => ({
        ...n,
        ...(n.blksize ? { blksize: Math.min(n.blksize, 1024) } : {}),
      }));
    },
  });
  const f = await startPxeTftp({
    listen: false,
    plugins: [policy],
    files: { secret: 's', 'pxelinux.cfg/default': 'generic', 'hosts/52-54-00-00-00-02/default': 'per-host', big: BIG },
  });
  t.after(() => f.stop());
  f.server.sessions.upsert('52:54:00:00:00:02', { ip: '127.0.0.1' });
  const denied = await f.server.inject.tftp({ path: 'secret' });
  assert.deepEqual(denied, { ok: false, errorCode: 2, errorMessage: 'access violation: not for you' });
  const ev = await f.waitEvent('tftp.denied');
  assert.equal(ev.plugin, 'policy');
  assert.equal(ev.mac, '52:54:00:00:00:02');
  const mapped = await f.server.inject.tftp({ path: 'pxelinux.cfg/default' });
  assert.equal(mapped.data?.toString(), 'per-host');
  const clamped = await f.server.inject.tftp({ path: 'big', options: { blksize: '1468' } });
  assert.deepEqual(clamped.oack, { blksize: '1024' });
  assert.ok(clamped.data?.equals(BIG));
});

test('a throwing hook answers ERROR 0 with a generic message, logs the plugin, and the server keeps serving', async (t) => {
  const broken = definePlugin({
    name: 'broken',
    apply(server) {
      server.tftp.hooks.readRequest.tapPromise('broken', async (req) => {
        if (req.path === '/boom') throw new Error('secret internals');
        return undefined;
      });
      server.tftp.hooks.negotiate.tap('broken', (n, req) => {
        if (req.path === '/neg') throw new Error('negotiate bug');
        return n;
      });
    },
  });
  const f = await startPxeTftp({ listen: false, plugins: [broken], files: { ok: 'fine', neg: 'n' } });
  t.after(() => f.stop());
  assert.deepEqual(await f.server.inject.tftp({ path: 'boom' }), {
    ok: false,
    errorCode: 0,
    errorMessage: 'internal server error',
  });
  assert.deepEqual(await f.server.inject.tftp({ path: 'neg', options: { blksize: '1024' } }), {
    ok: false,
    errorCode: 0,
    errorMessage: 'internal server error',
  });
  const logged = f.logs.filter((l) => l.event === 'tftp.hook.error');
  assert.equal(logged.length, 2);
  assert.deepEqual(
    logged.map((l) => l.plugin),
    ['broken', 'broken'],
  );
  const err = f.events.find((e) => e.type === 'tftp.error' && e.data.path === '/boom');
  assert.equal(err?.plugin, 'broken');
  assert.equal((await f.server.inject.tftp({ path: 'ok' })).data?.toString(), 'fine');
});

test('inject-only server: repeated failures are rate-limited and the held-back count is written at close', async () => {
  const broken = definePlugin({
    name: 'broken',
    apply(server) {
      server.tftp.hooks.readRequest.tapPromise('broken', async () => {
        throw new Error('always');
      });
    },
  });
  const f = await startPxeTftp({ listen: false, plugins: [broken], files: { f: 'x' } });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await f.server.inject.tftp({ path: 'f' })).errorCode, 0);
    const lines = () => f.logs.filter((l) => l.event === 'tftp.hook.error');
    assert.equal(lines().length, 1, 'the 2nd and 3rd failure within the interval are held back');
  } finally {
    await f.stop();
  }
  const held = f.logs.filter((l) => l.event === 'tftp.hook.error');
  assert.equal(held.length, 2, 'close flushed the held-back line (the listener never started)');
  assert.equal(held[1]!.suppressed, 2);
});

test('admit: a MAC off the allowlist gets ERROR 2 with the reason, and its file is never resolved', async (t) => {
  const f = await startPxeTftp({
    listen: false,
    plugins: [macAllowlist({ allow: ['52:54:00:aa:aa:aa'] })],
    files: { f: 'data' },
  });
  t.after(() => f.stop());
  f.server.sessions.upsert('52:54:00:bb:bb:bb', { ip: '127.0.0.1' });
  const r = await f.server.inject.tftp({ path: 'f', options: { tsize: '0' } });
  assert.equal(r.ok, false);
  assert.equal(r.errorCode, 2);
  assert.match(r.errorMessage ?? '', /^access violation: .*52:54:00:bb:bb:bb/);
  assert.equal(r.oack, undefined);
  const denied = await f.waitEvent('tftp.denied');
  assert.equal(denied.plugin, 'mac-allowlist');
  assert.ok(f.events.some((e) => e.type === 'admit.deny'));
  assert.ok(!f.events.some((e) => e.type === 'tftp.oack' || e.type === 'tftp.done'));
  f.server.sessions.upsert('52:54:00:aa:aa:aa', { ip: '127.0.0.2' });
  assert.equal((await f.server.inject.tftp({ path: 'f', remoteAddress: '127.0.0.2' })).data?.toString(), 'data');
});

test('netascii inject returns the converted bytes and tsize counts them', async (t) => {
  const f = await startPxeTftp({ listen: false, files: { txt: 'a\nb\rc\n' } });
  t.after(() => f.stop());
  const r = await f.server.inject.tftp({ path: 'txt', mode: 'netascii', options: { tsize: '0' } });
  assert.equal(r.ok, true);
  assert.deepEqual(r.data, Buffer.from('a\r\nb\r\0c\r\n'));
  assert.equal(r.oack?.tsize, '9');
});
