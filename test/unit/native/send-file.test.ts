/**
 * The native sendfile path (send-file.c, send-worker.c: the sends run on a thread beside the event loop),
 * over real loopback TCP connections: concurrent sends deliver every byte, in order; a cancel stops a send
 * whose reader stopped reading, reports ECANCELED after the call (never inside it) and lets the connection
 * close; an idle sender keeps no process alive; a worker thread that exits with a send in flight takes it
 * down without harming the process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { nativeBinding } from '../../../core/native/binding.js';
import { ECANCELED, kernelSender } from '../../../core/native/send-file.js';

const { sender } = kernelSender();
const skip = !sender && `sendfile path not available (${nativeBinding().reason ?? 'PXEKIT_SENDFILE=0'})`;
const MiB = 1 << 20;

/** A connected pair on loopback: `server` is the side we send from, `client` reads (or not). */
async function pair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  const [server] = await accepted;
  srv.close();
  return {
    server,
    client,
    close: () => {
      server.destroy();
      client.destroy();
    },
  };
}

function fdOf(s: Socket): number {
  return (s as unknown as { _handle: { fd: number } })._handle.fd;
}

function bodyFile(bytes: number): { file: string; fd: number; hash: string; done: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'pxekit-sendfile-'));
  const file = path.join(dir, 'body.bin');
  const data = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) data.writeUInt32LE(i >>> 2, i);
  writeFileSync(file, data);
  const fd = openSync(file, 'r');
  return {
    file,
    fd,
    hash: createHash('sha256').update(data).digest('hex'),
    done: () => {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('sendfile: 12 concurrent sends deliver every byte, head first, in order', { skip }, async () => {
  const body = bodyFile(6 * MiB + 123);
  try {
    const runs = Array.from({ length: 12 }, async (_, i) => {
      const { server, client, close } = await pair();
      try {
        const chunks: Buffer[] = [];
        client.on('data', (c: Buffer) => chunks.push(c));
        const head = Buffer.from(`HEAD ${i}\r\n`);
        const job = sender!.send(fdOf(server), body.fd, 0, 6 * MiB + 123, head);
        const r = await job.done;
        assert.deepEqual(r, { errno: 0, sent: 6 * MiB + 123 });
        assert.equal(job.progress(), 6 * MiB + 123);
        server.end();
        await once(client, 'end');
        const got = Buffer.concat(chunks);
        assert.equal(got.subarray(0, head.length).toString(), head.toString());
        assert.equal(createHash('sha256').update(got.subarray(head.length)).digest('hex'), body.hash);
      } finally {
        close();
      }
    });
    await Promise.all(runs);
  } finally {
    body.done();
  }
});

test('sendfile: cancel stops a send to a reader that stopped; ECANCELED comes after the call', { skip }, async () => {
  const body = bodyFile(64 * MiB);
  const { server, client, close } = await pair();
  try {
    client.pause(); // never reads: the send fills the buffers and waits
    let reported = false;
    const job = sender!.send(fdOf(server), body.fd, 0, 64 * MiB);
    void job.done.then(() => (reported = true));
    const deadline = Date.now() + 5000;
    let last = -1;
    // Wait until the send is stuck (no progress over 100 ms) with part of the body out.
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const now = job.progress();
      if (now > 0 && now === last) break;
      last = now;
    }
    assert.ok(job.progress() > 0 && job.progress() < 64 * MiB, `stuck mid-body (sent ${job.progress()})`);
    job.cancel();
    assert.equal(reported, false, 'the callback does not run inside cancel()');
    const r = await job.done;
    assert.equal(r.errno, ECANCELED);
    assert.ok(r.sent < 64 * MiB);
    job.cancel(); // safe after done
    // The thread closed its duplicate: once node closes its descriptor the reader sees the end.
    server.destroy();
    client.resume();
    const ended = await Promise.race([
      once(client, 'close').then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    assert.ok(ended, 'the connection closed after the cancel');
  } finally {
    close();
    body.done();
  }
});

// A child process: an idle sender thread must not keep node running, and one in flight must.
const CHILD = `
import { kernelSender } from './core/native/send-file.js';
import { createServer, connect } from 'node:net';
import { openSync, writeFileSync } from 'node:fs';
const file = process.argv[1];
writeFileSync(file, Buffer.alloc(1 << 20, 7));
const srv = createServer((s) => {
  const job = kernelSender().sender.send(s._handle.fd, openSync(file, 'r'), 0, 1 << 20);
  job.done.then((r) => { console.log('sent', r.errno, r.sent); s.end(); srv.close(); });
}).listen(0, '127.0.0.1', () => {
  const c = connect(srv.address().port, '127.0.0.1');
  let n = 0;
  c.on('data', (d) => (n += d.length));
  c.on('end', () => console.log('got', n));
});
`;

test('sendfile: a send in flight keeps the process alive; an idle sender thread does not', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pxekit-sendfile-child-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', CHILD, path.join(dir, 'f')],
      { cwd: path.resolve(import.meta.dirname, '../../..'), encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.signal, null, `the child exited by itself (stderr: ${r.stderr})`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /sent 0 1048576/);
    assert.match(r.stdout, /got 1048576/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync } = require('node:fs');
const { connect } = require('node:net');
const b = require(workerData.addon);
const c = connect(workerData.port, '127.0.0.1', () => {
  const job = b.sendFile(c._handle.fd, openSync(workerData.file, 'r'), 0, 64 << 20, () => parentPort.postMessage('done'));
  setTimeout(() => parentPort.postMessage({ sent: b.sendFileProgress(job) }), 300);
});
`;

test('sendfile: a worker thread that exits with a send in flight stops it; the process goes on', { skip }, async () => {
  const body = bodyFile(64 * MiB);
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  try {
    const accepted = once(srv, 'connection') as Promise<[Socket]>;
    const addon = path.resolve(import.meta.dirname, '../../../core/native/build/pxekit_native.node');
    const w = new Worker(WORKER, {
      eval: true,
      workerData: { addon, port: (srv.address() as { port: number }).port, file: body.file },
    });
    const [reader] = await accepted;
    reader.pause(); // the send fills the buffers and waits
    const [msg] = (await once(w, 'message')) as [{ sent: number }];
    assert.ok(msg.sent > 0 && msg.sent < 64 * MiB, `a send in flight (${msg.sent})`);
    await w.terminate();
    reader.resume();
    const closed = await Promise.race([
      once(reader, 'end').then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    assert.ok(closed, "the worker's exit closed its connection");
    reader.destroy();
  } finally {
    srv.close();
    body.done();
  }
});

test('sendfile: a thread that cannot start turns the path off with the reason, instead of failing each send', () => {
  const reason = 'cannot start the sendfile thread (Resource temporarily unavailable)';
  const standIn = {
    ...nativeBinding().binding!,
    sendFile: () => assert.fail('no send may start'),
    sendFileStart: () => reason,
  };
  assert.deepEqual(kernelSender(standIn), { failure: reason });
  // The real addon starts its thread (or has it running): a sender, no reason.
  if (!skip) {
    const real = kernelSender();
    assert.ok(real.sender);
    assert.equal(real.failure, undefined);
  }
});
