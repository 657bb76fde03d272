/**
 * The lean HTTP path (core/http/lean-connection.ts) against raw TCP clients on the real listener: what it
 * serves itself, what it hands to node:http (and that node then answers exactly as before), keep-alive and
 * pipelining, and its headers bound. leanCounts() tells which path took each request.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sourceDisk from 'pxekit/plugins/source-disk';
import { definePlugin } from '../../../core/plugin.js';
import { createServer } from '../../../core/create-server.js';
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

/** The `http.tap.unlimited` lines among logged JSON lines. */
const unlimitedTapLines = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === 'http.tap.unlimited');

const since = (before: ReturnType<typeof leanCounts>) => {
  const now = leanCounts();
  return {
    served: now.served - before.served,
    handedOver: now.handedOver - before.handedOver,
    viaNode: now.viaNode - before.viaNode,
  };
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
  assert.deepEqual(since(c0), { served: 4, handedOver: 0, viaNode: 0 });
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
  assert.deepEqual(since(c0), { served: 3, handedOver: 0, viaNode: 0 });
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
    assert.deepEqual(since(c0), { served: 0, handedOver: 1, viaNode: 0 }, JSON.stringify(junk.slice(0, 60)));
  }
  // Over the lean path's 8 KiB but within node's 16 KiB: node serves it.
  const c0 = leanCounts();
  const big = await raw(f.port, [`GET /a.txt HTTP/1.1\r\nX-Big: ${'a'.repeat(10_000)}\r\nConnection: close\r\n\r\n`]);
  assert.equal(responses(big.text, ['GET'])[0]?.body, 'alpha\n');
  assert.deepEqual(since(c0), { served: 0, handedOver: 1, viaNode: 0 });
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
  assert.deepEqual(since(c0), { served: 1, handedOver: 1, viaNode: 0 });
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
    assert.deepEqual(since(c0), { served: 1, handedOver: 0, viaNode: 0 });
    if (path === '/big.bin' && nativeBinding().binding) assert.equal(kernelSendCount(), k0 + 1, 'sent by sendfile');
  }
});

test('a tap without paths: node:http answers every request (the tap sees its objects), the connection stays', async () => {
  const tapped = definePlugin({
    name: 'test-lean-tap',
    apply(server) {
      server.http.hooks.request.tapPromise('test-lean-tap', async (ctx) =>
        ctx.path === '/status' ? { status: 200, body: `tap saw ${ctx.req.httpVersion}` } : undefined,
      );
    },
  });
  const lines: string[] = [];
  const g = await startHttpFixture({ plugins: [tapped], logLines: lines });
  const noted = unlimitedTapLines(lines);
  assert.deepEqual(
    noted.map((l) => [l['hook'], l['tap']]),
    [['http.request', 'test-lean-tap']],
    'the start-up line says which tap keeps every request on node:http',
  );
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
    assert.deepEqual(since(c0), { served: 0, handedOver: 0, viaNode: 2 });
  } finally {
    await g.close();
  }
});

test('taps that say their paths: node:http answers theirs on the same connection, the files after stay lean', async () => {
  const limited = definePlugin({
    name: 'test-lean-paths',
    apply(server) {
      server.http.hooks.request.tapPromise({ name: 'test-lean-paths', paths: (p) => p === '/status' }, async (ctx) => ({
        status: 200,
        body: `status via node ${ctx.req.httpVersion}`,
      }));
      server.http.hooks.script.tapPromise(
        { name: 'test-lean-paths', paths: (p) => p === '/boot.ipxe' },
        async (prev, ctx) =>
          prev ?? { body: `#!ipxe\necho ${ctx.res.constructor.name} ${ctx.req.socket.localAddress}\n` },
      );
    },
  });
  const startLines: string[] = [];
  const g = await startHttpFixture({ plugins: [limited, sourceDisk({ root: diskDir })], logLines: startLines });
  assert.ok(!startLines.some((l) => l.includes('http.tap.unlimited')), 'taps with paths: no such line');
  try {
    await writeFile(join(g.root, 'a.txt'), 'alpha\n');
    // iPXE's order on one keep-alive connection: the per-host script (a tap's), then the kernel.
    const c0 = leanCounts();
    const k0 = kernelSendCount();
    const r = await raw(g.port, [
      'GET /boot.ipxe HTTP/1.1\r\n\r\nGET /big.bin HTTP/1.1\r\n\r\nGET /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n',
    ]);
    const got = responses(r.text, ['GET', 'GET', 'GET']);
    assert.deepEqual(
      got.map((x) => [x.status, x.body.length]),
      [
        [200, '#!ipxe\necho ServerResponse 127.0.0.1\n'.length],
        [200, KERNEL_SEND_MIN + 1000],
        [200, 6],
      ],
    );
    assert.equal(got[0]!.body, '#!ipxe\necho ServerResponse 127.0.0.1\n', "the tap saw node's objects, real addresses");
    assert.equal(got[0]!.headers['connection'], 'keep-alive');
    assert.ok(r.closedByServer, 'Connection: close on the last one honoured');
    assert.deepEqual(since(c0), { served: 2, handedOver: 0, viaNode: 1 }, 'the files after the script: lean');
    if (nativeBinding().binding) assert.equal(kernelSendCount(), k0 + 1, 'big.bin by sendfile');
    // node:http's own keep-alive decisions hold: Connection: close, and HTTP/1.0 without keep-alive, end it.
    const c1 = leanCounts();
    const status = await raw(g.port, ['GET /status HTTP/1.1\r\nConnection: close\r\n\r\nGET /a.txt HTTP/1.1\r\n\r\n']);
    assert.deepEqual(
      responses(status.text, ['GET']).map((x) => [x.status, x.body]),
      [[200, 'status via node 1.1']],
    );
    assert.ok(status.closedByServer, 'closed after the response node:http would not keep alive');
    assert.ok(!status.text.includes('alpha'), 'nothing answered after the close');
    const old = await raw(g.port, ['GET /status HTTP/1.0\r\n\r\n']);
    assert.match(old.text, /^HTTP\/1\.1 200 [^]*status via node 1\.0$/);
    assert.ok(old.closedByServer, 'HTTP/1.0: closed after the answer');
    assert.deepEqual(since(c1), { served: 0, handedOver: 0, viaNode: 2 }, "the taps' own paths: node:http");
  } finally {
    await g.close();
  }
});

test("a tap's request: a failing tap (500) keeps the connection lean, a client gone mid-answer or half-closed is handled", async () => {
  let release: (() => void) | undefined;
  const tapLines: string[] = [];
  const taps = definePlugin({
    name: 'test-lean-exchange',
    apply(server) {
      server.http.hooks.script.tapPromise(
        { name: 'test-lean-exchange', paths: (p) => p.endsWith('.ipxe') },
        async (prev, ctx) => {
          if (ctx.path === '/fail.ipxe') throw new Error('template broke');
          if (ctx.path === '/slow.ipxe') await new Promise<void>((r) => (release = r));
          return prev ?? { body: 'script\n' };
        },
      );
    },
  });
  const g = await startHttpFixture({ plugins: [taps], logLines: tapLines });
  try {
    await writeFile(join(g.root, 'a.txt'), 'alpha\n');
    const r = await raw(g.port, ['GET /fail.ipxe HTTP/1.1\r\n\r\nGET /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n']);
    assert.deepEqual(
      responses(r.text, ['GET', 'GET']).map((x) => x.status),
      [500, 200],
    );
    // Half-closed right after its request: the answer still comes, then the connection ends.
    const half = await new Promise<string>((resolve) => {
      const sock = connect(g.port, '127.0.0.1', () => sock.end('GET /ok.ipxe HTTP/1.1\r\n\r\n'));
      let text = '';
      sock.on('data', (d) => (text += d.toString('latin1')));
      sock.on('close', () => resolve(text));
    });
    assert.match(half, /^HTTP\/1\.1 200 [^]*\r\n\r\nscript\n$/);
    // The client goes away while the tap is still working: logged as aborted, the server goes on.
    const l0 = tapLines.length;
    const gone = connect(g.port, '127.0.0.1', () => gone.write('GET /slow.ipxe HTTP/1.1\r\n\r\n'));
    for (let i = 0; i < 100 && !release; i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(release, 'the tap was called');
    gone.destroy();
    await new Promise((res) => setTimeout(res, 50));
    release();
    for (let i = 0; i < 100; i++) {
      if (tapLines.slice(l0).some((l) => l.includes('"path":"/slow.ipxe"'))) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const line = tapLines.slice(l0).find((l) => l.includes('"event":"http.request"') && l.includes('/slow.ipxe'));
    assert.ok(line, 'the request was logged');
    assert.equal((JSON.parse(line) as { aborted?: boolean }).aborted, true, 'the client left before the answer');
    const after = await raw(g.port, ['GET /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n']);
    assert.deepEqual(responses(after.text, ['GET'])[0]?.body, 'alpha\n');
  } finally {
    await g.close();
  }
});

test('a reload whose new plugins tap without paths names the tap again (as at start)', async () => {
  const g = await startHttpFixture({ logLines: [] });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const tapped = definePlugin({
    name: 'test-reload-tap',
    apply(server) {
      server.http.hooks.script.tapPromise('test-reload-tap', async (prev) => prev);
    },
  });
  const next = createServer({
    log: { level: 'info' },
    logger: pino({ level: 'info' }, sink),
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { port: 0, address: '127.0.0.1' },
    plugins: [tapped],
    replaces: g.server,
  });
  try {
    await next.start();
    const noted = unlimitedTapLines(lines);
    assert.deepEqual(
      noted.map((l) => [l['hook'], l['tap']]),
      [['http.script', 'test-reload-tap']],
    );
  } finally {
    await next.close();
    await rm(g.root, { recursive: true, force: true });
  }
});
