import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type BootEvent, createServer } from 'pxekit';
import status, { statusHandles } from './index.js';
import { escapeHtml, statusPage } from './page.js';
import { StatusState } from './state.js';

const quiet = { log: { level: 'silent' as const }, dhcp: { mode: 'off' as const }, tftp: { enabled: false } };
const ev = (e: Partial<BootEvent> & Pick<BootEvent, 'type' | 'protocol' | 'outcome'>, time: number): BootEvent => ({
  time,
  data: {},
  ...e,
});

test('a client moves dhcp → tftp → http → done; a deny fails it; a new DISCOVER starts over', () => {
  let now = 1000;
  const s = new StatusState({ maxClients: 10, maxNotices: 3, doneAfterMs: 500, now: () => now });
  const mac = '52:54:00:00:00:01';
  s.apply(
    ev(
      {
        type: 'dhcp.offer',
        protocol: 'dhcp',
        outcome: 'ok',
        mac,
        data: { archName: 'x64-uefi', bootFile: 'ipxe.efi' },
      },
      1000,
    ),
  );
  let c = s.snapshot().clients[0]!;
  assert.equal(c.stage, 'dhcp');
  assert.equal(c.archName, 'x64-uefi');
  assert.equal(c.detail, 'ipxe.efi');
  s.apply(
    ev(
      { type: 'tftp.probe', protocol: 'tftp', outcome: 'probe', mac, ip: '10.0.0.9', data: { path: '/ipxe.efi' } },
      1100,
    ),
  );
  assert.equal(s.snapshot().clients[0]!.stage, 'dhcp', 'a tsize probe is not a stage change');
  s.apply(
    ev(
      {
        type: 'tftp.done',
        protocol: 'tftp',
        outcome: 'ok',
        mac,
        ip: '10.0.0.9',
        data: { path: '/ipxe.efi', bytes: 1000 },
      },
      1200,
    ),
  );
  assert.equal(s.snapshot().clients[0]!.stage, 'tftp');
  s.apply(
    ev(
      { type: 'http.get', protocol: 'http', outcome: 'ok', mac, data: { path: '/boot.ipxe', bytes: 24, status: 200 } },
      1300,
    ),
  );
  c = s.snapshot().clients[0]!;
  assert.equal(c.stage, 'http');
  assert.equal(c.bytes, 1024);
  assert.equal(c.ip, '10.0.0.9');
  now = 1700;
  assert.equal(s.sweep().length, 0, 'not quiet long enough');
  now = 1900;
  assert.equal(s.sweep()[0]?.stage, 'done');
  s.apply(ev({ type: 'dhcp.discover', protocol: 'dhcp', outcome: 'info', mac, data: {} }, 2000));
  s.apply(ev({ type: 'dhcp.offer', protocol: 'dhcp', outcome: 'ok', mac, data: {} }, 2001));
  c = s.snapshot().clients[0]!;
  assert.equal(c.stage, 'dhcp');
  assert.equal(c.bytes, 0);
  assert.equal(c.firstSeen, 2000);
  s.apply(
    ev(
      {
        type: 'admit.deny',
        protocol: 'http',
        outcome: 'denied',
        mac,
        plugin: 'mac-allowlist',
        data: { reason: 'not listed', path: '/x' },
      },
      2100,
    ),
  );
  c = s.snapshot().clients[0]!;
  assert.equal(c.stage, 'failed');
  assert.equal(c.failedIn, 'http');
  assert.equal(c.reason, 'not listed');
  assert.equal(s.snapshot().denials[0]?.plugin, 'mac-allowlist');
});

test('a miss (HTTP 404, TFTP file not found) is listed as an error but does not fail the client', () => {
  const s = new StatusState({ maxClients: 10, maxNotices: 10, doneAfterMs: 0 });
  s.apply(
    ev(
      {
        type: 'tftp.error',
        protocol: 'tftp',
        outcome: 'error',
        ip: '10.0.0.1',
        data: { path: '/pxelinux.cfg/01-aa', code: 1, reason: 'File not found' },
      },
      1,
    ),
  );
  s.apply(
    ev(
      {
        type: 'http.get',
        protocol: 'http',
        outcome: 'error',
        ip: '10.0.0.1',
        data: { path: '/autoexec.ipxe', status: 404 },
      },
      2,
    ),
  );
  const snap = s.snapshot();
  assert.equal(snap.clients[0]?.stage, 'tftp', 'misses neither fail nor advance the client');
  assert.equal(snap.errors.length, 2);
  s.apply(ev({ type: 'dhcp.drop', protocol: 'dhcp', outcome: 'info', ip: '10.0.0.1', data: {} }, 3));
  s.apply(
    ev(
      {
        type: 'http.error',
        protocol: 'http',
        outcome: 'error',
        ip: '10.0.0.1',
        data: { path: '/vmlinuz', status: 200, message: 'source failed' },
      },
      4,
    ),
  );
  assert.equal(s.snapshot().clients[0]?.stage, 'failed');
  s.apply(ev({ type: 'dhcp.drop', protocol: 'dhcp', outcome: 'info', ip: '10.0.0.1', data: {} }, 5));
  assert.equal(s.snapshot().clients[0]?.stage, 'failed', 'an info event does not clear a failure');
});

test('bounded: clients and notices; an IP-only client is adopted when its MAC shows up', () => {
  const s = new StatusState({ maxClients: 3, maxNotices: 2, doneAfterMs: 0 });
  for (let i = 0; i < 5; i++)
    s.apply(
      ev(
        {
          type: 'tftp.error',
          protocol: 'tftp',
          outcome: 'error',
          ip: `10.0.0.${i}`,
          data: { reason: `r${i}`, code: 0 },
        },
        i,
      ),
    );
  const snap = s.snapshot();
  assert.deepEqual(
    snap.clients.map((c) => c.id),
    ['ip:10.0.0.4', 'ip:10.0.0.3', 'ip:10.0.0.2'],
  );
  assert.deepEqual(
    snap.errors.map((e) => e.reason),
    ['r4', 'r3'],
  );
  assert.deepEqual(
    snap.clients.map((c) => c.stage),
    ['failed', 'failed', 'failed'],
  );
  const ch = s.apply(
    ev(
      {
        type: 'http.get',
        protocol: 'http',
        outcome: 'ok',
        ip: '10.0.0.4',
        mac: 'aa:bb:cc:dd:ee:ff',
        data: { status: 200 },
      },
      9,
    ),
  );
  assert.equal(ch.renamedFrom, 'ip:10.0.0.4');
  assert.equal(ch.client?.id, 'aa:bb:cc:dd:ee:ff');
  assert.equal(s.snapshot().clients.length, 3);
});

test('the page escapes what it embeds and carries no external resource', () => {
  assert.equal(escapeHtml(`<img src=x onerror="a">&'`), '&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;');
  const html = statusPage({ base: '/st"atus', nonce: 'abc', maxNotices: 5, maxClients: 9 });
  assert.ok(html.includes('data-base="/st&quot;atus"'));
  assert.doesNotMatch(html, /https?:\/\//, 'no CDN, no external URL');
  assert.doesNotMatch(html, /innerHTML|insertAdjacentHTML|document\.write/, 'data only ever goes through textContent');
});

/** Reads SSE frames from a fetch body until `until` is satisfied (bounded). */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (events: Array<{ event: string; data: unknown }>) => boolean,
  ms = 5000,
) {
  const reader = body.getReader();
  const events: Array<{ event: string; data: unknown }> = [];
  let buf = '';
  const deadline = Date.now() + ms;
  const dec = new TextDecoder();
  for (let i = 0; i < 1000 && Date.now() < deadline && !until(events); i++) {
    const r = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((res) =>
        setTimeout(() => res({ done: true, value: undefined }), Math.max(1, deadline - Date.now())),
      ),
    ]);
    if (r.done) break;
    buf += dec.decode(r.value, { stream: true });
    let idx;
    while ((idx = buf.indexOf('\n\n')) !== -1) {
      const frame = buf.slice(0, idx);
      buf = buf.slice(idx + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

test('SSE: snapshot on connect, batched client updates, 503 past the bound, /api JSON, 404 under the prefix', async (t) => {
  const server = createServer({
    ...quiet,
    http: { port: 0 },
    plugins: [status({ maxSseClients: 1, updateIntervalMs: 20 })],
  });
  await server.start();
  t.after(() => server.close());
  const port = server.listening.find((l) => l.protocol === 'http')!.port;
  const url = `http://127.0.0.1:${port}/status`;
  server.emit({
    type: 'dhcp.offer',
    protocol: 'dhcp',
    outcome: 'ok',
    mac: '52:54:00:00:00:07',
    data: { archName: 'bios-x86' },
  });
  const ac = new AbortController();
  const r = await fetch(`${url}/events`, { signal: ac.signal });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
  assert.equal((await fetch(`${url}/events`)).status, 503, 'one stream allowed');
  setTimeout(() => {
    server.emit({
      type: 'tftp.done',
      protocol: 'tftp',
      outcome: 'ok',
      mac: '52:54:00:00:00:07',
      data: { path: '/undionly.kpxe', bytes: 70000 },
    });
    server.emit({
      type: 'admit.deny',
      protocol: 'dhcp',
      outcome: 'denied',
      mac: '<script>',
      plugin: 'mac-allowlist',
      data: { reason: 'nope' },
    });
  }, 50);
  const events = await readEvents(
    r.body!,
    (es) =>
      es.some((e) => e.event === 'denial') &&
      es.some((e) => e.event === 'clients' && JSON.stringify(e.data).includes('tftp')),
  );
  ac.abort();
  assert.equal(events[0]?.event, 'snapshot');
  assert.equal((events[0]!.data as { clients: Array<{ stage: string }> }).clients[0]?.stage, 'dhcp');
  const upd = events.find((e) => e.event === 'clients')!.data as Array<{ id: string; stage: string; bytes: number }>;
  assert.ok(upd.some((c) => c.id === '52:54:00:00:00:07' && c.stage === 'tftp' && c.bytes === 70000));
  const api = (await (await fetch(`${url}/api`)).json()) as { clients: unknown[]; denials: Array<{ mac: string }> };
  assert.equal(api.denials[0]?.mac, '<script>');
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
  assert.equal((await fetch(`${url}/nope`)).status, 404);
  // The aborted stream is forgotten, so a new one fits.
  for (let i = 0; i < 100 && statusHandles.get(server)!.hub.size > 0; i++)
    await new Promise((res) => setTimeout(res, 20));
  assert.equal(statusHandles.get(server)!.hub.size, 0);
});

test("an open stream does not hold the server's close for the grace period", async () => {
  const server = createServer({ ...quiet, shutdownTimeoutMs: 60_000, http: { port: 0 }, plugins: [status()] });
  await server.start();
  const port = server.listening.find((l) => l.protocol === 'http')!.port;
  const r = await fetch(`http://127.0.0.1:${port}/status/events`);
  assert.equal(r.status, 200);
  const reading = readEvents(r.body!, () => false, 20_000);
  const closed = server.close().then(() => 'closed' as const);
  const winner = await Promise.race([closed, new Promise<'slow'>((res) => setTimeout(() => res('slow'), 10_000))]);
  assert.equal(winner, 'closed');
  await reading;
});

test('own port: page, events and api there; / redirects', async () => {
  const server = createServer({ ...quiet, http: { enabled: false }, plugins: [status({ port: 0 })] });
  await server.start();
  const port = statusHandles.get(server)!.side!.port;
  const r = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/status');
  assert.equal((await fetch(`http://127.0.0.1:${port}/status/api`)).status, 200);
  const ev = await fetch(`http://127.0.0.1:${port}/status/events`);
  assert.equal(ev.status, 200);
  const reading = readEvents(ev.body!, (es) => es.length > 0);
  assert.equal((await reading)[0]?.event, 'snapshot');
  await server.close();
});

test('a kernel 404 followed by silence fails the client with the file as the reason; a probe miss does not', () => {
  let now = 0;
  const s = new StatusState({
    maxClients: 10,
    maxNotices: 5,
    doneAfterMs: 500,
    failAfterMissMs: 1000,
    stallAfterMs: 5000,
    now: () => now,
  });
  const mac = '52:54:00:00:00:09';
  const get = (path: string, status: number, time: number) =>
    s.apply(
      ev(
        {
          type: 'http.get',
          protocol: 'http',
          outcome: status === 200 ? 'ok' : 'error',
          mac,
          data: { path, status, bytes: status === 200 ? 10 : 0 },
        },
        time,
      ),
    );
  s.apply(ev({ type: 'dhcp.offer', protocol: 'dhcp', outcome: 'ok', mac }, 0));
  get('/boot.ipxe', 200, 100);
  get('/autoexec.ipxe', 404, 200); // a probe: the next request follows at once
  get('/menu.ipxe', 200, 300);
  now = 5000;
  assert.deepEqual(
    s.sweep().map((c) => c.stage),
    ['done'],
    'the probe miss was forgotten after the success',
  );
  s.apply(ev({ type: 'dhcp.discover', protocol: 'dhcp', outcome: 'info', mac }, 6000));
  get('/boot.ipxe', 200, 6100);
  get('/vmlinuz', 404, 6200);
  now = 6900;
  assert.deepEqual(s.sweep(), [], 'not yet: the client may still ask for something else');
  now = 7300;
  const [c] = s.sweep();
  assert.equal(c?.stage, 'failed');
  assert.equal(c?.failedIn, 'http');
  assert.match(c?.reason ?? '', /^\/vmlinuz: HTTP 404 not found/);
  now = 60_000;
  assert.deepEqual(s.sweep(), [], 'a failed client stays failed (its clock stopped)');
});

test('a client that goes quiet mid-boot is stalled with how long and after what; it resumes when it asks again', () => {
  let now = 0;
  const s = new StatusState({ maxClients: 10, maxNotices: 5, doneAfterMs: 500, stallAfterMs: 2000, now: () => now });
  const mac = '52:54:00:00:00:0a';
  s.apply(ev({ type: 'dhcp.offer', protocol: 'dhcp', outcome: 'ok', mac, data: { bootFile: 'ipxe.efi' } }, 0));
  now = 1999;
  assert.deepEqual(s.sweep(), []);
  now = 2500;
  const [c] = s.sweep();
  assert.equal(c?.stage, 'stalled');
  assert.equal(c?.failedIn, 'dhcp');
  assert.equal(c?.reason, 'no request for 3 s after dhcp.offer ipxe.efi');
  s.apply(ev({ type: 'tftp.done', protocol: 'tftp', outcome: 'ok', mac, data: { path: '/ipxe.efi', bytes: 5 } }, 2600));
  const back = s.snapshot().clients[0]!;
  assert.equal(back.stage, 'tftp');
  assert.equal(back.reason, undefined);
});
