/**
 * The native transfer socket (core/native): a real socket on loopback against a node:dgram peer —
 * send/receive both ways, truncation reported, ICMP port unreachable as ECONNREFUSED, close and GC
 * release the descriptor, bad arguments throw, IPv6, and the send queue when the kernel says EAGAIN.
 * Also readCached (file-read.c) and armReply.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { once } from 'node:events';
import { constants } from 'node:os';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NativeUdpSocket, nativeUdp, MAX_QUEUED_PACKETS, RECV_BUFFER_BYTES } from '../../../core/native/udp-socket.js';

// Without a C compiler `npm ci` cannot build the addon and pxekit runs on node:dgram: these tests then
// skip, saying why (.ci/run installs the compiler and fails if the addon was not built).
const available = nativeUdp();
const skip =
  !available.available && `native addon not built (${available.reason}); install a C compiler and run npm rebuild`;

async function peer(
  type: 'udp4' | 'udp6' = 'udp4',
): Promise<{ sock: Socket; port: number; next: () => Promise<Buffer> }> {
  const sock = createSocket(type);
  const queue: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  sock.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(sock, 'listening');
  return {
    sock,
    port: sock.address().port,
    next: () => {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no datagram within 2 s')), 2000);
        waiters.push((b) => {
          clearTimeout(timer);
          resolve(b);
        });
      });
    },
  };
}

function collector() {
  const packets: Buffer[] = [];
  const errors: NodeJS.ErrnoException[] = [];
  let wake: (() => void) | undefined;
  return {
    packets,
    errors,
    events: {
      onPacket: (buf: Buffer, len: number) => {
        packets.push(Buffer.from(buf.subarray(0, Math.min(len, buf.length)))); // copied: buf is reused
        if (len > buf.length) packets.at(-1)!.writeUInt32BE(len >>> 0, 0); // mark truncation for the test
        wake?.();
      },
      onError: (err: NodeJS.ErrnoException) => {
        errors.push(err);
        wake?.();
      },
    },
    until(pred: () => boolean, ms = 2000): Promise<void> {
      if (pred()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), ms);
        wake = () => {
          if (!pred()) return;
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
      });
    },
  };
}

const openFds = () => readdirSync('/proc/self/fd').length;

test('sends to and receives from its connected peer; the receive buffer is reused', { skip }, async (t) => {
  const p = await peer();
  t.after(() => p.sock.close());
  const c = collector();
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', p.port, c.events);
  t.after(() => s.close());
  assert.ok(s.localPort > 0);
  s.send(Buffer.from('hello world'), 5);
  assert.equal((await p.next()).toString(), 'hello');
  p.sock.send(Buffer.from([0, 4, 0, 7]), s.localPort, '127.0.0.1');
  p.sock.send(Buffer.from('second'), s.localPort, '127.0.0.1');
  await c.until(() => c.packets.length === 2);
  assert.deepEqual(c.packets[0], Buffer.from([0, 4, 0, 7]));
  assert.equal(c.packets[1]!.toString(), 'second');
});

test('datagrams from any other address or port are filtered by the kernel (connected socket)', { skip }, async (t) => {
  const p = await peer();
  const other = await peer();
  t.after(() => {
    p.sock.close();
    other.sock.close();
  });
  const c = collector();
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', p.port, c.events);
  t.after(() => s.close());
  other.sock.send(Buffer.from('stranger'), s.localPort, '127.0.0.1');
  p.sock.send(Buffer.from('peer'), s.localPort, '127.0.0.1');
  await c.until(() => c.packets.length >= 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    c.packets.map((b) => b.toString()),
    ['peer'],
  );
});

test('a datagram longer than the receive buffer is reported with its real length', { skip }, async (t) => {
  const p = await peer();
  t.after(() => p.sock.close());
  const lens: number[] = [];
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', p.port, {
    onPacket: (_b, len) => lens.push(len),
    onError: () => undefined,
  });
  t.after(() => s.close());
  p.sock.send(Buffer.alloc(RECV_BUFFER_BYTES + 100), s.localPort, '127.0.0.1');
  const until = Date.now() + 2000;
  while (lens.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(lens, [RECV_BUFFER_BYTES + 100]);
});

test('ICMP port unreachable surfaces as ECONNREFUSED', { skip }, async () => {
  const p = await peer();
  const port = p.port;
  p.sock.close(); // nobody listens there any more
  const c = collector();
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', port, c.events);
  try {
    s.send(Buffer.from('anyone?'));
    await c.until(() => c.errors.length > 0);
    assert.equal(c.errors[0]!.code, 'ECONNREFUSED');
    // A second send may fail synchronously in the kernel: reported asynchronously, never thrown.
    assert.doesNotThrow(() => s.send(Buffer.from('again')));
  } finally {
    s.close();
  }
});

test('IPv6: binds ::1 and talks to a udp6 peer', { skip }, async (t) => {
  let p: Awaited<ReturnType<typeof peer>>;
  try {
    p = await peer('udp6');
  } catch {
    t.skip('no IPv6 loopback here');
    return;
  }
  t.after(() => p.sock.close());
  const c = collector();
  const s = new NativeUdpSocket('::1', '::1', p.port, c.events);
  t.after(() => s.close());
  s.send(Buffer.from('v6'));
  assert.equal((await p.next()).toString(), 'v6');
});

test('close releases the descriptor, is idempotent, and later sends are ignored', { skip }, async () => {
  const before = openFds();
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', 9, { onPacket: () => undefined, onError: () => undefined });
  assert.equal(openFds(), before + 1);
  s.close();
  s.close();
  assert.equal(openFds(), before);
  assert.doesNotThrow(() => s.send(Buffer.from('x')));
  assert.equal(s.localPort, -1);
});

test('a thousand open/close cycles leave no descriptor behind; closed handles are collectable', { skip }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const before = openFds();
  for (let i = 0; i < 1000; i++) {
    const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', 9, { onPacket: () => undefined, onError: () => undefined });
    s.send(Buffer.from('x'));
    s.close();
  }
  assert.equal(openFds(), before);
  await new Promise((r) => setImmediate(r)); // uv close callbacks run
  gc(); // finalizers of the closed handles free the native state (a crash here would fail the file)
  await new Promise((r) => setImmediate(r));
});

test('bad addresses and arguments throw clear errors', { skip }, () => {
  const ev = { onPacket: () => undefined, onError: () => undefined };
  assert.throws(() => new NativeUdpSocket('not-an-ip', '127.0.0.1', 69, ev), /IP addresses/);
  assert.throws(() => new NativeUdpSocket('127.0.0.1', '::1', 69, ev), /one family/);
  assert.throws(() => new NativeUdpSocket('127.0.0.1', '127.0.0.1', 0, ev), /peerPort/);
  assert.throws(() => new NativeUdpSocket('192.0.2.1', '127.0.0.1', 69, ev), /bind: Cannot assign requested address/);
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', 9, ev);
  try {
    assert.throws(() => s.send(Buffer.alloc(4), 5), /len must be within buf/);
  } finally {
    s.close();
  }
});

test('EAGAIN: packets wait in a bounded queue, in order, and go out when writable', { skip }, async () => {
  // A fake binding drives the JS side deterministically (a real kernel send buffer seldom fills on loopback).
  const sent: string[] = [];
  let full = true;
  let writableCb: ((kind: number, value: number, steps: number) => void) | undefined;
  let wants = 0;
  const fake = {
    readCached: () => -1,
    copy: () => undefined,
    armReply: () => undefined,
    armChain: () => undefined,
    chainSteps: () => 0,
    disarm: () => undefined,
    open: (
      _l: string,
      _p: string,
      _port: number,
      _buf: Buffer,
      cb: (kind: number, value: number, steps: number) => void,
    ) => {
      writableCb = cb;
      return {};
    },
    send: (_h: object, buf: Buffer, len: number) => {
      if (full) return -constants.errno.EAGAIN;
      sent.push(buf.subarray(0, len).toString());
      return len;
    },
    wantWritable: (_h: object, want: boolean) => {
      if (want) wants++;
    },
    localPort: () => 1234,
    close: () => undefined,
    sendFile: () => assert.fail('not a file send'),
    cancelSendFile: () => undefined,
    sendFileProgress: () => 0,
  };
  const s = new NativeUdpSocket(
    '127.0.0.1',
    '127.0.0.1',
    69,
    { onPacket: () => undefined, onError: () => undefined },
    fake,
  );
  const slot = Buffer.from('aaaa');
  s.send(slot);
  slot.write('bbbb'); // the caller reuses its buffer at once: the queue holds a copy
  s.send(slot);
  for (let i = 0; i < MAX_QUEUED_PACKETS + 10; i++) s.send(Buffer.from('x'));
  assert.equal(s.dropped, 12, 'the queue holds MAX_QUEUED_PACKETS; the rest are dropped and counted');
  assert.ok(wants >= 1);
  full = false;
  writableCb!(2, 0, 0);
  assert.equal(sent.length, MAX_QUEUED_PACKETS);
  assert.deepEqual(sent.slice(0, 2), ['aaaa', 'bbbb']);
  s.send(Buffer.from('after'));
  assert.equal(sent.at(-1), 'after');
});

test(
  'readCached: reads a cached file positionally; bad descriptors answer -EBADF; bad ranges throw',
  { skip },
  async (t) => {
    const { readCached } = (await import('../../../core/native/binding.js')).nativeBinding().binding!;
    const { mkdtempSync, writeFileSync, openSync, closeSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'pxekit-native-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const data = Buffer.from('0123456789abcdef');
    writeFileSync(join(dir, 'f'), data); // just written: in the page cache
    const fd = openSync(join(dir, 'f'), 'r');
    t.after(() => closeSync(fd));
    const buf = Buffer.alloc(8, 0x2e);
    assert.equal(readCached(fd, buf, 2, 4, 10), 4);
    assert.equal(buf.toString(), '..abcd..');
    assert.equal(readCached(fd, buf, 0, 8, 16), 0, 'end of file');
    assert.equal(readCached(1_000_000, buf, 0, 8, 0), -constants.errno.EBADF);
    assert.throws(() => readCached(fd, buf, 4, 8, 0), RangeError);
    assert.throws(() => readCached(fd, buf, 0, 1, -1), RangeError);
  },
);

test(
  'armReply: the armed packet goes out when a datagram with the key arrives, before the callback; one-shot; disarm',
  { skip },
  async (t) => {
    const p = await peer();
    t.after(() => p.sock.close());
    const seen: { data: string; replied: boolean }[] = [];
    let wake: (() => void) | undefined;
    const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', p.port, {
      onPacket: (buf, len, replied) => {
        seen.push({ data: buf.subarray(0, len).toString('hex'), replied });
        wake?.();
      },
      onError: () => undefined,
    });
    t.after(() => s.close());
    const until = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), 2000);
        wake = () => {
          if (seen.length >= n) {
            clearTimeout(timer);
            resolve();
          }
        };
        wake();
      });
    const reply = Buffer.from('0003000248454c4c4f', 'hex'); // DATA 2 "HELLO"
    assert.equal(s.armReply(0x00040001, reply, reply.length), true);
    p.sock.send(Buffer.from('00040000', 'hex'), s.localPort, '127.0.0.1'); // not the key: no reply
    p.sock.send(Buffer.from('0004000100', 'hex'), s.localPort, '127.0.0.1'); // the key (padding tolerated)
    await until(2);
    assert.deepEqual(seen, [
      { data: '00040000', replied: false },
      { data: '0004000100', replied: true },
    ]);
    assert.equal((await p.next()).toString('hex'), reply.toString('hex'));
    p.sock.send(Buffer.from('00040001', 'hex'), s.localPort, '127.0.0.1'); // same key again: one-shot
    await until(3);
    assert.equal(seen[2]!.replied, false);
    s.armReply(0x00040002, reply, 4);
    s.disarm();
    p.sock.send(Buffer.from('00040002', 'hex'), s.localPort, '127.0.0.1');
    await until(4);
    assert.equal(seen[3]!.replied, false);
    await assert.rejects(p.next(), /no datagram/, 'nothing else was sent');
  },
);
