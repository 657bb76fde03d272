/** Malformed and hostile clients: never a crash, never a hang, every wait bounded. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { curl, hasCurl, startHttpFixture, type HttpFixture } from './fixture.js';

let f: HttpFixture;

before(async () => {
  // The schema's smallest header timeout keeps the slow-client test short.
  f = await startHttpFixture({ http: { headersTimeoutMs: 1000 } });
  await writeFile(join(f.root, 'boot.ipxe'), '#!ipxe\n');
  await writeFile(join(f.root, 'big.img'), '');
  await truncate(join(f.root, 'big.img'), 64 * 1024 * 1024);
});
after(async () => {
  if (f) await f.close();
});

/** Sends raw bytes and collects what comes back until the server closes, or `boundMs` passes. */
function raw(port: number, chunks: string[], boundMs: number): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    let closedByServer = false;
    const timer = setTimeout(() => {
      sock.destroy();
    }, boundMs);
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
    });
    sock.on('data', (d) => {
      text += d.toString('latin1');
    });
    sock.on('end', () => {
      closedByServer = true;
    });
    sock.on('error', () => {
      closedByServer = true;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer });
    });
  });
}

test('huge headers → 431 and the connection closes', { skip: hasCurl ? false : 'curl is not installed' }, async () => {
  const r = await curl(f, '/boot.ipxe', ['-H', `X-Big: ${'a'.repeat(20_000)}`]);
  assert.equal(r.status, 431);
  const again = await curl(f, '/boot.ipxe');
  assert.equal(again.status, 200, 'the server still serves afterwards');
});

test('slow headers (slowloris) are cut off by the header timeout', async () => {
  const r = await raw(f.port, ['GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nX-Slow: '], 15_000);
  assert.ok(r.closedByServer, 'the server closed the half-sent request (not our 15 s bound)');
  assert.match(r.text, /^HTTP\/1\.1 408 /);
});

test('garbage request lines → 400, connection closed, server alive', async () => {
  for (const junk of [
    '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n',
    'GET\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
  ]) {
    const r = await raw(f.port, [junk], 10_000);
    assert.ok(r.closedByServer, JSON.stringify(junk));
    assert.match(r.text, /^HTTP\/1\.1 (400|505) /, JSON.stringify(junk));
  }
  const ok = await raw(f.port, ['GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 10_000);
  assert.match(ok.text, /^HTTP\/1\.1 200 /);
});

test('a client that aborts mid-body: source destroyed, no error, event marks it incomplete', async () => {
  const before = f.opened.length;
  await new Promise<void>((resolve) => {
    const sock = connect(f.port, '127.0.0.1');
    let got = 0;
    const timer = setTimeout(() => sock.destroy(), 10_000);
    sock.on('connect', () => sock.write('GET /big.img HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.on('data', (d) => {
      got += d.length;
      if (got > 256 * 1024) sock.destroy();
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const stream = f.opened[before];
  assert.ok(stream, 'the source was opened');
  for (let i = 0; i < 100 && !stream.destroyed; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(stream.destroyed, 'the source stream was destroyed after the abort');
  for (let i = 0; i < 100 && !f.events.some((e) => e.type === 'http.get' && e.data['path'] === '/big.img'); i++)
    await new Promise((r) => setTimeout(r, 20));
  const ev = f.events.find((e) => e.type === 'http.get' && e.data['path'] === '/big.img');
  assert.ok(ev);
  assert.equal(ev.outcome, 'error');
  assert.equal(ev.data['aborted'], true);
  assert.ok((ev.data['bytes'] as number) < 64 * 1024 * 1024);
  assert.ok(!f.events.some((e) => e.type === 'http.error'), 'a client abort is not a server error');
});
