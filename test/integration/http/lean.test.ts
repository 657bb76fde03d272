/**
 * The lean HTTP path (core/http/lean-connection.ts) against raw TCP clients on the real listener: what it
 * serves itself, what it hands to node:http (and that node then answers exactly as before), keep-alive and
 * pipelining, and its headers bound. leanCounts() tells which path took each request.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sourceDisk from 'pxekit/plugins/source-disk';
import { definePlugin } from '../../../core/plugin.js';
import { nativeBinding } from '../../../core/native/binding.js';
import { leanCounts } from '../../../core/http/lean-connection.js';
import { KERNEL_SEND_MIN, kernelSendCount } from '../../../core/http/send-kernel.js';
import { startHttpFixture, type HttpFixture } from './fixture.js';

let f: HttpFixture;
let diskDir: string;
const logLines: string[] = [];

/** The `http.request` lines logged from index `from` on, once there are `n` (bounded wait: lines follow the close). */
async function requestLines(from: number, n: number): Promise<Record<string, unknown>[]> {
  const lines = () =>
    logLines
      .slice(from)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['event'] === 'http.request');
  for (let i = 0; i < 100 && lines().length < n; i++) await new Promise((r) => setTimeout(r, 20));
  return lines();
}

before(async () => {
  // big.bin from source-disk (a descriptor: the sendfile path), the rest from the fixture's own source.
  diskDir = await mkdtemp(join(tmpdir(), 'pxekit-lean-'));
  await writeFile(join(diskDir, 'big.bin'), Buffer.alloc(KERNEL_SEND_MIN + 1000, 7));
  f = await startHttpFixture({ http: { headersTimeoutMs: 1000 }, plugins: [sourceDisk({ root: diskDir })], logLines });
  await writeFile(join(f.root, 'a.txt'), 'alpha\n');
  await writeFile(join(f.root, 'b.txt'), 'bravo bravo\n');
});
after(async () => {
  if (f) await f.close();
  if (diskDir) await rm(diskDir, { recursive: true, force: true });
});

interface Raw {
  text: string;
  closedByServer: boolean;
}

/**
 * Writes `chunks` (each after `gapMs`) and collects the answer until the server closes, or `boundMs`.
 */
function raw(port: number, chunks: string[], boundMs = 10_000, gapMs = 0): Promise<Raw> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    let closedByServer = false;
    const timer = setTimeout(() => sock.destroy(), boundMs);
    sock.on('connect', () => {
      void (async () => {
        for (const c of chunks) {
          if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
          if (!sock.destroyed) sock.write(c);
        }
      })();
    });
    sock.on('data', (d) => (text += d.toString('latin1')));
    sock.on('end', () => (closedByServer = true));
    sock.on('error', () => (closedByServer = true));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer });
    });
  });
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits a byte stream of responses (by Content-Length; HEAD and 304 have no body). */
function responses(text: string, methods: string[]): Parsed[] {
  const out: Parsed[] = [];
  let rest = text;
  for (const method of methods) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(statusLine!.split(' ')[1]);
    const len = method === 'HEAD' || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

const since = (before: { served: number; handedOver: number }) => {
  const now = leanCounts();
  return { served: now.served - before.served, handedOver: now.handedOver - before.handedOver };
};

test('pipelined GET and HEAD in one write: answered in order on the lean path', async () => {
  const c0 = leanCounts();
  const r = await raw(f.port, [
    'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b.txt HTTP/1.1\r\n\r\nGET /missing HTTP/1.1\r\n\r\n' +
      'GET /b.txt HTTP/1.1\r\nConnection: close\r\n\r\n',
  ]);
  const got = responses(r.text, ['GET', 'HEAD', 'GET', 'GET']);
  assert.deepEqual(
    got.map((x) => [x.status, x.body]),
    [
      [200, 'alpha\n'],
      [200, ''],
      [404, '404 Not Found\n'],
      [200, 'bravo bravo\n'],
    ],
  );
  assert.equal(got[1]!.headers['content-length'], '12', 'HEAD: the length of the GET');
  assert.equal(got[0]!.headers['connection'], 'keep-alive');
  assert.match(got[0]!.headers['keep-alive'] ?? '', /^timeout=\d+$/);
  assert.ok(got[0]!.headers['date'], 'Date header');
  assert.equal(got[3]!.headers['connection'], 'close');
  assert.ok(r.closedByServer, 'Connection: close honoured');
  assert.deepEqual(since(c0), { served: 4, handedOver: 0 });
});

test('HTTP/1.0: closed after the answer unless it asks for keep-alive', async () => {
  const c0 = leanCounts();
  const plain = await raw(f.port, ['GET /a.txt HTTP/1.0\r\n\r\n']);
  const [one] = responses(plain.text, ['GET']);
  assert.equal(one!.status, 200);
  assert.equal(one!.headers['connection'], 'close');
  assert.ok(plain.closedByServer);
  const kept = await raw(
    f.port,
    ['GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'GET /b.txt HTTP/1.0\r\n\r\n'],
    10_000,
    50,
  );
  const two = responses(kept.text, ['GET', 'GET']);
  assert.deepEqual(
    two.map((x) => [x.status, x.headers['connection'], x.body]),
    [
      [200, 'keep-alive', 'alpha\n'],
      [200, 'close', 'bravo bravo\n'],
    ],
  );
  assert.ok(kept.closedByServer);
  assert.deepEqual(since(c0), { served: 3, handedOver: 0 });
});

test('malformed or over-long heads go to node:http: its 400/431, connection closed, server alive', async () => {
  for (const [junk, status] of [
    ['GET /a.txt HTTP/1.1\r\nNo colon here\r\n\r\n', 400],
    ['GET /a.txt HTTP/1.1\r\nX-Fold: a\r\n b\r\n\r\n', 400],
    [`GET /a.txt HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['GET /a.txt HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', 400],
  ] as const) {
    const c0 = leanCounts();
    const r = await raw(f.port, [junk]);
    assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(junk.slice(0, 60)));
    assert.ok(r.closedByServer);
    assert.deepEqual(since(c0), { served: 0, handedOver: 1 }, JSON.stringify(junk.slice(0, 60)));
  }
  // Over the lean path's 8 KiB but within node's 16 KiB: node serves it.
  const c0 = leanCounts();
  const big = await raw(f.port, [`GET /a.txt HTTP/1.1\r\nX-Big: ${'a'.repeat(10_000)}\r\nConnection: close\r\n\r\n`]);
  assert.equal(responses(big.text, ['GET'])[0]?.body, 'alpha\n');
  assert.deepEqual(since(c0), { served: 0, handedOver: 1 });
});

test('a GET with a body, then POST, after a lean answer: handed over mid-connection, all answered in order', async () => {
  const c0 = leanCounts();
  const l0 = logLines.length;
  const r = await raw(f.port, [
    'GET /a.txt HTTP/1.1\r\n\r\n' +
      'GET /b.txt HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello' +
      'POST /a.txt HTTP/1.1\r\nContent-Length: 0\r\n\r\n' +
      'GET /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n',
  ]);
  const got = responses(r.text, ['GET', 'GET', 'POST', 'GET']);
  assert.deepEqual(
    got.map((x) => [x.status, x.body]),
    [
      [200, 'alpha\n'],
      [200, 'bravo bravo\n'],
      [405, '405 Method Not Allowed\n'],
      [200, 'alpha\n'],
    ],
  );
  assert.equal(got[2]!.headers['allow'], 'GET, HEAD');
  assert.ok(r.closedByServer);
  assert.deepEqual(since(c0), { served: 1, handedOver: 1 });
  // The access log says which path answered: `lean: true` on the first only (lines come as responses close).
  const logged = await requestLines(l0, 4);
  assert.deepEqual(
    logged.map((l) => `${String(l['method'])} ${String(l['path'])} ${String(l['status'])} ${String(l['lean'])}`).sort(),
    ['GET /a.txt 200 true', 'GET /a.txt 200 undefined', 'GET /b.txt 200 undefined', 'POST /a.txt 405 undefined'],
  );
});

test('half a head then silence: cut at the headers bound (408 first, a plain cut after an answer)', async () => {
  const fresh = await raw(f.port, ['GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Slow: '], 8000);
  assert.ok(fresh.closedByServer, 'cut by the server, not our 8 s bound');
  assert.match(fresh.text, /^HTTP\/1\.1 408 /);
  // After an answer (buffered, or by sendfile with the head sent by the addon): cut, no 408.
  for (const path of ['/a.txt', '/big.bin']) {
    const c0 = leanCounts();
    const k0 = kernelSendCount();
    const started = performance.now();
    const after = await raw(f.port, [`GET ${path} HTTP/1.1\r\n\r\n`, 'GET /b.txt HTTP/1.1\r\nX-Sl'], 8000, 100);
    assert.ok(after.closedByServer, 'cut by the server, not our 8 s bound');
    assert.ok(performance.now() - started < 6000);
    const got = responses(after.text, ['GET']);
    assert.equal(got[0]?.status, 200);
    assert.equal(got[0]?.body.length, path === '/a.txt' ? 6 : KERNEL_SEND_MIN + 1000);
    assert.equal(
      after.text.length,
      after.text.indexOf('\r\n\r\n') + 4 + got[0]!.body.length,
      'nothing after it (no 408)',
    );
    assert.deepEqual(since(c0), { served: 1, handedOver: 0 });
    if (path === '/big.bin' && nativeBinding().binding) assert.equal(kernelSendCount(), k0 + 1, 'sent by sendfile');
  }
});

test('a tapped request hook: requests go to node:http and the tap answers them', async () => {
  const tapped = definePlugin({
    name: 'test-lean-tap',
    apply(server) {
      server.http.hooks.request.tapPromise('test-lean-tap', async (ctx) =>
        ctx.path === '/status' ? { status: 200, body: `tap saw ${ctx.req.httpVersion}` } : undefined,
      );
    },
  });
  const g = await startHttpFixture({ plugins: [tapped] });
  try {
    await writeFile(join(g.root, 'a.txt'), 'alpha\n');
    const c0 = leanCounts();
    const r = await raw(g.port, ['GET /status HTTP/1.1\r\n\r\nGET /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n']);
    assert.deepEqual(
      responses(r.text, ['GET', 'GET']).map((x) => [x.status, x.body]),
      [
        [200, 'tap saw 1.1'],
        [200, 'alpha\n'],
      ],
    );
    assert.deepEqual(since(c0), { served: 0, handedOver: 1 });
  } finally {
    await g.close();
  }
});

test('taps that say their paths: their requests go to node:http and reach them, all others stay lean', async () => {
  const limited = definePlugin({
    name: 'test-lean-paths',
    apply(server) {
      server.http.hooks.request.tapPromise({ name: 'test-lean-paths', paths: (p) => p === '/status' }, async (ctx) => ({
        status: 200,
        body: `status via node ${ctx.req.httpVersion}`,
      }));
      server.http.hooks.script.tapPromise(
        { name: 'test-lean-paths', paths: (p) => p === '/boot.ipxe' },
        async (prev, ctx) => prev ?? { body: `#!ipxe\necho ${ctx.res.constructor.name}\n` },
      );
    },
  });
  const g = await startHttpFixture({ plugins: [limited, sourceDisk({ root: diskDir })] });
  try {
    await writeFile(join(g.root, 'a.txt'), 'alpha\n');
    const c0 = leanCounts();
    const k0 = kernelSendCount();
    const files = await raw(g.port, ['GET /a.txt HTTP/1.1\r\n\r\nGET /big.bin HTTP/1.1\r\nConnection: close\r\n\r\n']);
    assert.deepEqual(
      responses(files.text, ['GET', 'GET']).map((x) => [x.status, x.body.length]),
      [
        [200, 6],
        [200, KERNEL_SEND_MIN + 1000],
      ],
    );
    assert.deepEqual(since(c0), { served: 2, handedOver: 0 }, 'neither tap takes these paths: lean');
    if (nativeBinding().binding) assert.equal(kernelSendCount(), k0 + 1, 'big.bin by sendfile');
    const c1 = leanCounts();
    const status = await raw(g.port, ['GET /status HTTP/1.1\r\nConnection: close\r\n\r\n']);
    const script = await raw(g.port, ['GET /boot.ipxe HTTP/1.1\r\nConnection: close\r\n\r\n']);
    assert.deepEqual(responses(status.text, ['GET'])[0]?.body, 'status via node 1.1');
    assert.deepEqual(responses(script.text, ['GET'])[0]?.body, '#!ipxe\necho ServerResponse\n');
    assert.deepEqual(since(c1), { served: 0, handedOver: 2 }, "the taps' own paths: node:http");
  } finally {
    await g.close();
  }
});
