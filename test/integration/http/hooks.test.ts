/** The decision path of an HTTP request: sessions, admit, the request and script hooks, events, logs, inject. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { definePlugin } from '../../../core/plugin.js';
import { curl, hasCurl, startHttpFixture, type HttpFixture } from './fixture.js';

const MAC = '52:54:00:12:34:56';
const DENIED_MAC = '52:54:00:de:ad:00';
let f: HttpFixture;
const logLines: string[] = [];

const admitPlugin = definePlugin({
  name: 'test-admit',
  apply(server) {
    server.hooks.admit.tapPromise('test-admit', async (req) =>
      req.mac === DENIED_MAC || req.path === '/denied.txt' ? { deny: 'test says no' } : undefined,
    );
  },
});
const requestPlugin = definePlugin({
  name: 'test-request',
  apply(server) {
    server.http.hooks.request.tapPromise('test-request', async (ctx) => {
      if (ctx.path === '/status')
        return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ up: true }) };
      if (ctx.path === '/private') return { deny: 'private area' };
      if (ctx.path === '/raw') {
        ctx.res.writeHead(202, { 'Content-Length': 3 });
        ctx.res.end('raw');
        return { handled: true };
      }
      if (ctx.path === '/boom') throw new Error('request tap exploded');
      return undefined;
    });
  },
});
const scriptPlugin = definePlugin({
  name: 'test-script',
  apply(server) {
    server.http.hooks.script.tapPromise('test-script', async (script, ctx) => {
      if (ctx.path !== '/boot.ipxe') return script;
      return { body: `#!ipxe\necho ${ctx.session?.mac ?? 'unknown'} ${ctx.client.address}\n` };
    });
    // Passes the value on unchanged: must not be named as the producer.
    server.http.hooks.script.tap('test-script-observer', (script) => script);
  },
});

before(async () => {
  f = await startHttpFixture({ plugins: [admitPlugin, requestPlugin, scriptPlugin], logLines });
  await writeFile(join(f.root, 'kernel'), Buffer.alloc(4096, 7));
  await writeFile(join(f.root, 'denied.txt'), 'no');
});
after(async () => {
  if (f) await f.close();
});

test('session by source IP: stage http, file and bytes recorded, http.get event with the session', async () => {
  const s = f.server.sessions.upsert(MAC, { ip: '127.0.0.1' });
  const r = await f.server.inject.http({ path: '/kernel', remoteAddress: '::ffff:127.0.0.1' });
  assert.equal(r.status, 200);
  assert.equal(s.stage, 'http');
  assert.deepEqual(s.files.slice(-1), ['/kernel']);
  assert.equal(s.bytes, 4096);
  const ev = f.events.findLast((e) => e.type === 'http.get');
  assert.equal(ev?.mac, MAC);
  assert.equal(ev?.session, s);
  assert.equal(ev?.outcome, 'ok');
  assert.equal(ev?.data['status'], 200);
  assert.equal(ev?.data['bytes'], 4096);
  assert.equal(ev?.data['source'], 'test-dir-source');
  assert.equal(typeof ev?.data['durationMs'], 'number');
  // HEAD and ranges do not count as a fetched file.
  await f.server.inject.http({ method: 'HEAD', path: '/kernel', remoteAddress: '127.0.0.1' });
  assert.equal(s.bytes, 4096);
});

test('session by MAC in the URL (?mac= and pxelinux-style path) wins over the source IP', async () => {
  const other = f.server.sessions.upsert('52:54:00:aa:bb:cc', {});
  const r = await f.server.inject.http({ path: '/boot.ipxe?mac=52-54-00-AA-BB-CC', remoteAddress: '10.9.9.9' });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), '#!ipxe\necho 52:54:00:aa:bb:cc 10.9.9.9\n');
  assert.equal(other.ip, '10.9.9.9');
  const p = await f.server.inject.http({ path: '/pxelinux.cfg/01-52-54-00-aa-bb-cc', remoteAddress: '10.9.9.9' });
  assert.equal(p.status, 404);
  assert.equal(f.events.findLast((e) => e.type === 'http.get')?.mac, '52:54:00:aa:bb:cc');
});

test('admit deny → 403 with admit.deny emitted; by MAC in the URL and by path', async () => {
  const byMac = await f.server.inject.http({ path: `/kernel?mac=${DENIED_MAC}` });
  assert.equal(byMac.status, 403);
  const deny = f.events.findLast((e) => e.type === 'admit.deny');
  assert.equal(deny?.protocol, 'http');
  assert.equal(deny?.mac, DENIED_MAC);
  assert.equal(deny?.data['reason'], 'test says no');
  if (hasCurl) {
    const r = await curl(f, '/denied.txt');
    assert.equal(r.status, 403);
    assert.notEqual(r.body.toString(), 'no');
  }
});

test('request hook: early answer, deny, handled, and a throwing tap → 500 + http.error', async () => {
  const st = await f.server.inject.http({ path: '/status' });
  assert.equal(st.status, 200);
  assert.deepEqual(JSON.parse(st.body.toString()), { up: true });
  assert.equal(st.headers['content-length'], String(st.body.length));
  const head = await f.server.inject.http({ method: 'HEAD', path: '/status' });
  assert.equal(head.body.length, 0);
  const priv = await f.server.inject.http({ path: '/private' });
  assert.equal(priv.status, 403);
  const denyEv = f.events.findLast((e) => e.type === 'http.deny');
  assert.equal(denyEv?.plugin, 'test-request');
  assert.equal(denyEv?.data['reason'], 'private area');
  const raw = await f.server.inject.http({ path: '/raw' });
  assert.equal(raw.status, 202);
  assert.equal(raw.body.toString(), 'raw');
  const boom = await f.server.inject.http({ path: '/boom' });
  assert.equal(boom.status, 500);
  const err = f.events.findLast((e) => e.type === 'http.error');
  assert.equal(err?.plugin, 'test-request');
  assert.equal(err?.data['code'], 'PXE_ERR_HOOK_FAILED');
});

test(
  'script hook: served with Content-Length, text/plain, no-store; producer in the event',
  { skip: hasCurl ? false : 'curl is not installed' },
  async () => {
    const r = await curl(f, '/boot.ipxe');
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /^#!ipxe\necho /);
    assert.equal(r.headers['content-length'], String(r.body.length));
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    const ev = f.events.findLast((e) => e.type === 'http.get');
    assert.equal(ev?.data['script'], 'test-script');
    assert.equal(ev?.plugin, 'test-script');
  },
);

test('inject() gives what a real request gives', { skip: hasCurl ? false : 'curl is not installed' }, async () => {
  for (const [path, args, headers] of [
    ['/kernel', [], {}],
    ['/kernel', ['-r', '100-199'], { range: 'bytes=100-199' }],
    ['//kernel', [], {}],
    ['/../kernel', [], {}],
    ['/missing', [], {}],
    ['/boot.ipxe', [], {}],
  ] as Array<[string, string[], Record<string, string>]>) {
    const real = await curl(f, path, args);
    const inj = await f.server.inject.http({ path, headers });
    assert.equal(inj.status, real.status, path);
    assert.equal(inj.headers['content-length'], real.headers['content-length'], path);
    assert.equal(inj.headers['content-range'], real.headers['content-range'], path);
    assert.equal(inj.headers['etag'], real.headers['etag'], path);
    assert.equal(inj.headers['content-type'], real.headers['content-type'], path);
    assert.deepEqual(inj.body, real.body, path);
  }
  const bad = await f.server.inject.http({ method: 'POST', path: '/kernel' });
  assert.equal(bad.status, 405);
});

test('one access-log line per request with event http.request', async () => {
  await f.server.inject.http({ path: '/kernel?x=1', remoteAddress: '127.0.0.7' });
  for (let i = 0; i < 50 && !logLines.some((l) => l.includes('127.0.0.7')); i++)
    await new Promise((r) => setTimeout(r, 10));
  const line = logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l['event'] === 'http.request' && l['client'] === '127.0.0.7');
  assert.ok(line);
  assert.equal(line['method'], 'GET');
  assert.equal(line['path'], '/kernel');
  assert.equal(line['status'], 200);
  assert.equal(line['bytes'], 4096);
  assert.equal(typeof line['ms'], 'number');
});
