import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, definePlugin, resolvePlugins } from 'pxekit';
import metrics, { metricsHandles } from './index.js';
import { LabelGuard } from './label-guard.js';

/** The value of one sample in Prometheus text, or undefined. Labels must be given in exposition order. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const quiet = { log: { level: 'silent' as const }, dhcp: { mode: 'off' as const }, tftp: { enabled: false } };

test('boot events become counters, served on /metrics of the boot HTTP listener', async (t) => {
  const slow = definePlugin({
    name: 'slow-admit',
    apply(s) {
      s.hooks.admit.tapPromise('slow-admit', async () => undefined);
    },
  });
  const server = createServer({ ...quiet, http: { port: 0 }, plugins: [slow, metrics()] });
  await server.start();
  t.after(() => server.close());
  const session = server.sessions.upsert('52:54:00:00:00:01', { archName: 'x64-uefi' });
  server.emit({ type: 'dhcp.discover', protocol: 'dhcp', outcome: 'info', mac: session.mac, session, data: {} });
  server.emit({
    type: 'dhcp.proxy.offer',
    protocol: 'dhcp',
    outcome: 'ok',
    mac: session.mac,
    session,
    data: { archName: 'x64-uefi' },
  });
  server.emit({
    type: 'dhcp.offer',
    protocol: 'dhcp',
    outcome: 'ok',
    mac: session.mac,
    session,
    data: { archName: 'bios-x86' },
  });
  server.emit({ type: 'dhcp.offer', protocol: 'dhcp', outcome: 'ok', mac: session.mac, data: {} });
  server.emit({ type: 'tftp.done', protocol: 'tftp', outcome: 'ok', data: { bytes: 1000, retransmits: 2 } });
  server.emit({ type: 'tftp.done', protocol: 'tftp', outcome: 'ok', data: { bytes: 500, retransmits: 0 } });
  server.emit({ type: 'tftp.probe', protocol: 'tftp', outcome: 'probe', data: { tsize: 5 } });
  server.emit({
    type: 'tftp.error',
    protocol: 'tftp',
    outcome: 'error',
    data: { bytes: 24, code: 1, reason: 'not found' },
  });
  server.emit({ type: 'http.get', protocol: 'http', outcome: 'ok', data: { status: 200, bytes: 4096 } });
  server.emit({ type: 'http.get', protocol: 'http', outcome: 'error', data: { status: 404, bytes: 0 } });
  server.emit({
    type: 'http.error',
    protocol: 'http',
    outcome: 'error',
    data: { status: 200, bytes: 10, code: 'PXE_ERR_FILE_SOURCE' },
  });
  server.emit({
    type: 'admit.deny',
    protocol: 'dhcp',
    outcome: 'denied',
    plugin: 'mac-allowlist',
    data: { reason: 'x' },
  });
  server.emit({
    type: 'admit.deny',
    protocol: 'http',
    outcome: 'denied',
    plugin: 'mac-allowlist',
    data: { reason: 'x' },
  });
  server.emit({ type: 'weird type with spaces', protocol: 'server', outcome: 'info', data: {} });
  await server.admit({ protocol: 'dhcp', mac: session.mac });

  const r = await fetch(`http://127.0.0.1:${server.listening.find((l) => l.protocol === 'http')!.port}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  assert.equal(sample(text, 'pxekit_dhcp_packets_total', 'type="discover",outcome="info"'), 1);
  assert.equal(sample(text, 'pxekit_dhcp_packets_total', 'type="proxy.offer",outcome="ok"'), 1);
  assert.equal(sample(text, 'pxekit_dhcp_packets_total', 'type="offer",outcome="ok"'), 2);
  assert.equal(sample(text, 'pxekit_dhcp_offers_total', 'arch="x64-uefi"'), 1);
  assert.equal(sample(text, 'pxekit_dhcp_offers_total', 'arch="bios-x86"'), 1);
  assert.equal(sample(text, 'pxekit_dhcp_offers_total', 'arch="unknown"'), 1);
  assert.equal(sample(text, 'pxekit_tftp_transfers_total', 'outcome="ok"'), 2);
  assert.equal(sample(text, 'pxekit_tftp_transfers_total', 'outcome="probe"'), 1);
  assert.equal(sample(text, 'pxekit_tftp_transfers_total', 'outcome="error"'), 1);
  assert.equal(sample(text, 'pxekit_tftp_bytes_total'), 1524);
  assert.equal(sample(text, 'pxekit_tftp_retransmits_total'), 2);
  assert.equal(sample(text, 'pxekit_http_requests_total', 'status="200"'), 2);
  assert.equal(sample(text, 'pxekit_http_requests_total', 'status="404"'), 1);
  assert.equal(sample(text, 'pxekit_http_requests_total', 'status="403"'), 1, 'the HTTP admit denial');
  assert.equal(sample(text, 'pxekit_http_bytes_total'), 4106);
  assert.equal(sample(text, 'pxekit_admit_denials_total', 'plugin="mac-allowlist",protocol="dhcp"'), 1);
  assert.equal(sample(text, 'pxekit_admit_denials_total', 'plugin="mac-allowlist",protocol="http"'), 1);
  assert.equal(sample(text, 'pxekit_errors_total', 'code="PXE_ERR_FILE_SOURCE"'), 1);
  assert.equal(sample(text, 'pxekit_errors_total', 'code="tftp.error"'), 1);
  assert.equal(sample(text, 'pxekit_errors_total', 'code="http.get"'), 1);
  assert.equal(sample(text, 'pxekit_boot_events_total', 'type="other",outcome="info"'), 1);
  assert.equal(sample(text, 'pxekit_active_sessions'), 1);
  // The admit above ran the plugin's tap: its timing is in the histogram.
  assert.ok((sample(text, 'pxekit_hook_duration_seconds_count', 'hook="server.admit",plugin="slow-admit"') ?? 0) >= 1);
  // Not the global registry.
  const { register } = await import('prom-client');
  assert.equal((await register.metrics()).includes('pxekit_dhcp_packets_total'), false);
});

test('hook failures are counted; other paths are left to the file tree; wrong method gets 405', async (t) => {
  const failing = definePlugin({
    name: 'bad-classifier',
    apply(s) {
      s.hooks.admit.tapPromise('bad-classifier', async () => {
        throw new Error('boom');
      });
    },
  });
  const server = createServer({ ...quiet, http: { port: 0 }, plugins: [metrics({ path: '/m' }), failing] });
  t.after(() => server.close());
  await server.admit({ protocol: 'dhcp', mac: '52:54:00:00:00:02' });
  const other = await server.inject.http({ path: '/metrics' });
  assert.equal(
    other.status,
    403,
    "/metrics is not this plugin's path here: a boot request, and the failing admit denies it (fail closed)",
  );
  const server2 = createServer({ ...quiet, http: { port: 0 }, plugins: [metrics({ path: '/m' })] });
  t.after(() => server2.close());
  assert.equal((await server2.inject.http({ path: '/metrics' })).status, 404);
  assert.equal((await server2.inject.http({ path: '/m', method: 'POST' })).status, 405);
  const head = await server2.inject.http({ path: '/m', method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  const text = await metricsHandles.get(server)!.registry.metrics();
  assert.equal(sample(text, 'pxekit_hook_failures_total', 'hook="server.admit",plugin="bad-classifier"'), 2);
});

test('own port: served there (not on the boot listener), closed with the server', async () => {
  const server = createServer({ ...quiet, http: { port: 0 }, plugins: [metrics({ port: 0, hookSampleRate: 0 })] });
  await server.start();
  const side = metricsHandles.get(server)!.side!;
  const port = side.port;
  assert.ok(port > 0);
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(r.status, 200);
  assert.match(await r.text(), /# TYPE pxekit_active_sessions gauge/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  assert.equal((await server.inject.http({ path: '/metrics' })).status, 404, 'not on the boot listener');
  await server.close();
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
});

test('label guard bounds label values', () => {
  const g = new LabelGuard(2);
  assert.equal(g.value('a'), 'a');
  assert.equal(g.value(7), '7');
  assert.equal(g.value('b'), 'other');
  assert.equal(g.value('a'), 'a');
  assert.equal(g.value('has space'), 'other');
  assert.equal(new LabelGuard(4).value('source-disk#ipxe'), 'source-disk#ipxe');
  assert.equal(new LabelGuard(4).value('@acme/pxekit-plugin-x'), '@acme/pxekit-plugin-x');
  assert.equal(g.value(undefined), 'unknown');
});

test('a second plugin instance keeps its name (source-disk#ipxe) in label values', async (t) => {
  const { plugins } = await resolvePlugins(
    [
      ['source-disk', { root: '.' }],
      ['source-disk#ipxe', { root: '.', mount: '/ipxe' }],
      ['mac-allowlist#lab', { allow: ['52:54:00:00:00:01'] }],
    ],
    { baseDir: process.cwd() },
  );
  assert.deepEqual(
    plugins.map((p) => p.name),
    ['source-disk', 'source-disk#ipxe', 'mac-allowlist#lab'],
  );
  const server = createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { port: 0, address: '127.0.0.1' },
    plugins: [metrics({ hookSampleRate: 1 }), ...plugins],
  });
  await server.start();
  t.after(() => server.close());
  assert.equal((await server.admit({ protocol: 'http', mac: '52:54:00:00:00:02' })).allowed, false);
  await server.inject.http({ path: '/ipxe/none.efi' });
  const text = await (
    await fetch(`http://127.0.0.1:${server.listening.find((l) => l.protocol === 'http')!.port}/metrics`)
  ).text();
  // the admit call and the HTTP request (an unknown client) were both refused by the second instance
  assert.equal(sample(text, 'pxekit_admit_denials_total', 'plugin="mac-allowlist#lab",protocol="http"'), 2);
  assert.ok(/plugin="source-disk#ipxe"/.test(text), 'the second source-disk instance is named as configured');
  assert.ok(!/plugin="other"/.test(text), 'no instance was folded into "other"');
});
