/**
 * The idle bound while the kernel sends a body (core/http/send-kernel.ts): node sees no socket activity
 * during sendfile(2), so progress must re-arm the socket's idle timer (a slow but steady reader is not cut
 * off), while a reader that stops is still cut off by that timer. A plain node:http server with a short
 * `server.timeout` stands in for pxekit's listener (whose bound is minutes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canSendByKernel, sendByKernel } from '../../../core/http/send-kernel.js';
import { nativeBinding } from '../../../core/native/binding.js';

const skip = nativeBinding().binding ? false : `no native addon: ${nativeBinding().reason}`;
const MiB = 1 << 20;
const SIZE = 48 * MiB;
const IDLE_MS = 1200;

/** How the server's one send ended, and when (ms after its request arrived). */
interface Sent {
  bytes: number;
  complete: boolean;
  ms: number;
}

async function withServer(fn: (port: number, sent: Promise<Sent>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-sendfile-idle-'));
  const file = join(dir, 'body');
  await writeFile(file, '');
  await truncate(file, SIZE); // sparse: page-cache zeros, no disk
  const fd = openSync(file, 'r');
  let report: (s: Sent) => void = () => undefined;
  const sent = new Promise<Sent>((r) => (report = r));
  const server: Server = createServer({ keepAlive: true }, (_req, res) => {
    const started = performance.now();
    assert.ok(canSendByKernel(res, fd, SIZE));
    res.writeHead(200, { 'Content-Length': SIZE });
    void sendByKernel(res, fd, 0, SIZE).then((r) => {
      report({ bytes: r.bytes, complete: r.complete, ms: performance.now() - started });
      if (r.complete) res.end();
      else res.destroy();
    });
  });
  server.timeout = IDLE_MS;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port, sent);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
}

/** GETs the body, reading at most `perTick` bytes every `tickMs`; resolves with the bytes seen and how it ended. */
function slowGet(port: number, perTick: number, tickMs: number, limitMs: number) {
  return new Promise<{ bytes: number; ms: number }>((resolve) => {
    const started = performance.now();
    const s = connect(port, '127.0.0.1');
    let bytes = 0;
    let tick = 0;
    const pump = setInterval(() => {
      tick = 0;
      s.resume();
    }, tickMs);
    const done = () => {
      clearInterval(pump);
      clearTimeout(limit);
      s.destroy();
      resolve({ bytes, ms: performance.now() - started });
    };
    const limit = setTimeout(done, limitMs);
    s.on('data', (b: Buffer) => {
      bytes += b.length;
      tick += b.length;
      if (tick >= perTick) s.pause();
    });
    s.on('close', done);
    s.on('error', () => undefined);
    s.write('GET /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
}

test('sendfile: a slow but steady reader outlasts the idle timeout (progress re-arms it)', { skip }, async () => {
  await withServer(async (port, sent) => {
    // 48 MiB at 2 MiB per 100 ms: about 2.4 s, twice the idle timeout.
    const r = await slowGet(port, 2 * MiB, 100, 20_000);
    assert.ok(r.bytes > SIZE, `got ${r.bytes} of ${SIZE} body bytes (plus headers) in ${Math.round(r.ms)} ms`);
    assert.ok(r.ms > IDLE_MS * 1.5, `the download took ${Math.round(r.ms)} ms: too fast to test the re-arm`);
    assert.equal((await sent).complete, true);
  });
});

test('sendfile: a reader that stops is cut off by the idle timeout', { skip }, async () => {
  await withServer(async (port, sent) => {
    // Reads one chunk, then nothing more: the socket fills and the send stalls. (A paused client does not
    // see the server's close, so the server side says when the send was cut.)
    const client = slowGet(port, 1, 60_000, 6000);
    const s = await sent;
    assert.equal(s.complete, false);
    assert.ok(s.bytes < SIZE, 'the body did not all go out');
    assert.ok(s.ms < IDLE_MS + 4000, `cut off after ${Math.round(s.ms)} ms (idle bound ${IDLE_MS} ms)`);
    assert.ok((await client).bytes < SIZE);
  });
});
