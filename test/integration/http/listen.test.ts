/** Binding: ephemeral ports, disabled HTTP, a port in use, and inject() on a server that never listened. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import { once } from 'node:events';
import { createServer } from '../../../core/create-server.js';
import { PxeError } from '../../../core/errors.js';
import { definePlugin } from '../../../core/plugin.js';

const quiet = { log: { level: 'silent' as const }, dhcp: { mode: 'off' as const }, tftp: { enabled: false } };

test('port 0 binds an ephemeral port and start() reports it', async (t) => {
  const server = createServer({ ...quiet, http: { port: 0, address: '127.0.0.1' } });
  t.after(() => server.close());
  const listening = await server.start();
  const http = listening.find((l) => l.protocol === 'http');
  assert.equal(http?.address, '127.0.0.1');
  assert.ok(http && http.port > 0);
  const res = await fetch(`http://127.0.0.1:${http.port}/nothing`);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-length'), String((await res.arrayBuffer()).byteLength));
});

test('disabled HTTP binds nothing, yet inject() runs the same flow', async (t) => {
  const script = definePlugin({
    name: 'test-script',
    apply(server) {
      server.http.hooks.script.tap('test-script', (s, ctx) => (ctx.path === '/hello.ipxe' ? { body: '#!ipxe\n' } : s));
    },
  });
  const server = createServer({ ...quiet, http: { enabled: false }, plugins: [script] });
  t.after(() => server.close());
  assert.deepEqual(
    (await server.start()).filter((l) => l.protocol === 'http'),
    [],
  );
  const r = await server.inject.http({ path: '/hello.ipxe' });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), '#!ipxe\n');
  assert.equal((await server.inject.http({ path: '/missing' })).status, 404);
});

test('inject() works before start() and close() after it does not hang', async () => {
  const server = createServer({ ...quiet, http: { port: 0 } });
  assert.equal((await server.inject.http({ path: '/x' })).status, 404);
  await server.http.close(100);
});

test('a port in use fails start() with PXE_ERR_LISTEN_IN_USE naming the port', async (t) => {
  const holder = createNetServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const server = createServer({ ...quiet, http: { port, address: '127.0.0.1' } });
  await assert.rejects(server.start(), (err: unknown) => {
    assert.ok(err instanceof PxeError);
    assert.equal(err.code, 'PXE_ERR_LISTEN_IN_USE');
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    return true;
  });
});
