/**
 * The addon's listening socket (core/native/listen-socket.c): each datagram comes with the local address
 * it was sent to, and a reply can be sent from a chosen local address. On loopback, where every 127.x
 * address is local: a wildcard socket learns which one a peer asked, and its reply leaves from it (without
 * `from`, the kernel picks 127.0.0.1). IPv6, dual-stack (IPv4-mapped) sockets, bind errors, truncation,
 * close, and bad arguments.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { nativeBinding } from '../../../core/native/binding.js';
import { NativeListenSocket, nativeListen } from '../../../core/native/listen-socket.js';

const available = nativeListen();
const skip = !available.available && `native addon without listenOpen (${available.reason}); run npm rebuild`;

interface Got {
  data: string;
  len: number;
  from: string;
  fromPort: number;
  to: string | undefined;
}

function listener(address: string, ipv6Only = false) {
  const got: Got[] = [];
  const waiters: ((g: Got) => void)[] = [];
  const sock = new NativeListenSocket(address, 0, ipv6Only, {
    onMessage: (buf, len, from, fromPort, to) => {
      const g = { data: buf.toString('latin1', 0, Math.min(len, buf.length)), len, from, fromPort, to };
      const w = waiters.shift();
      if (w) w(g);
      else got.push(g);
    },
    onError: (err) => assert.fail(err),
  });
  const next = (): Promise<Got> => {
    const g = got.shift();
    if (g) return Promise.resolve(g);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram within 2 s')), 2000);
      waiters.push((x) => {
        clearTimeout(timer);
        resolve(x);
      });
    });
  };
  return { sock, next };
}

async function peer(type: 'udp4' | 'udp6', address: string) {
  const sock: Socket = createSocket(type);
  sock.bind(0, address);
  await once(sock, 'listening');
  const next = () =>
    new Promise<{ msg: Buffer; rinfo: RemoteInfo }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within 2 s')), 2000);
      sock.once('message', (msg, rinfo) => {
        clearTimeout(timer);
        resolve({ msg, rinfo });
      });
    });
  return { sock, port: sock.address().port, next };
}

test('IPv4 wildcard: the destination of each datagram, and replies from it', { skip }, async (t) => {
  const l = listener('0.0.0.0');
  const p = await peer('udp4', '127.0.0.1');
  t.after(() => {
    l.sock.close();
    p.sock.close();
  });
  for (const asked of ['127.0.0.3', '127.0.0.1']) {
    p.sock.send('hello', l.sock.port, asked);
    const g = await l.next();
    assert.deepEqual(g, { data: 'hello', len: 5, from: '127.0.0.1', fromPort: p.port, to: asked });
    assert.equal(l.sock.send(Buffer.from('back'), g.from, g.fromPort, g.to), undefined);
    const r = await p.next();
    assert.equal(r.msg.toString(), 'back');
    assert.equal(r.rinfo.address, asked, 'the reply leaves from the address the peer asked');
    assert.equal(r.rinfo.port, l.sock.port);
  }
  // Without `from` the kernel picks: for a peer on 127.0.0.1 that is 127.0.0.1, not the address asked.
  l.sock.send(Buffer.from('kernel'), '127.0.0.1', p.port, undefined);
  assert.equal((await p.next()).rinfo.address, '127.0.0.1');
});

test(
  'IPv6 and dual-stack: IPv4 clients arrive as ::ffff:a.b.c.d and are answered from the mapped address',
  { skip },
  async (t) => {
    const l = listener('::');
    const p4 = await peer('udp4', '127.0.0.1');
    t.after(() => {
      l.sock.close();
      p4.sock.close();
    });
    p4.sock.send('v4', l.sock.port, '127.0.0.5');
    const g = await l.next();
    assert.deepEqual([g.from, g.to], ['::ffff:127.0.0.1', '::ffff:127.0.0.5']);
    assert.equal(l.sock.send(Buffer.from('ok'), g.from, g.fromPort, g.to), undefined);
    assert.equal((await p4.next()).rinfo.address, '127.0.0.5');

    let p6: Awaited<ReturnType<typeof peer>>;
    try {
      p6 = await peer('udp6', '::1');
    } catch {
      t.skip('no IPv6 loopback here');
      return;
    }
    t.after(() => p6.sock.close());
    p6.sock.send('v6', l.sock.port, '::1');
    const g6 = await l.next();
    assert.deepEqual([g6.data, g6.from, g6.to], ['v6', '::1', '::1']);
    assert.equal(l.sock.send(Buffer.from('ok6'), g6.from, g6.fromPort, g6.to), undefined);
    assert.equal((await p6.next()).rinfo.address, '::1');
  },
);

test(
  'ipv6Only keeps IPv4 clients out; a busy port and a foreign address fail with their errno',
  { skip },
  async (t) => {
    const l = listener('::', true);
    t.after(() => l.sock.close());
    const holder = listener('127.0.0.1');
    t.after(() => holder.sock.close());
    assert.throws(
      () => new NativeListenSocket('127.0.0.1', holder.sock.port, false, { onMessage() {}, onError() {} }),
      (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
    );
    assert.throws(
      () => new NativeListenSocket('192.0.2.1', 0, false, { onMessage() {}, onError() {} }),
      (err: NodeJS.ErrnoException) => err.code === 'EADDRNOTAVAIL',
    );
    // ipv6Only leaves the port's IPv4 side free (a dual-stack socket would hold it: EADDRINUSE).
    const v4 = new NativeListenSocket('0.0.0.0', l.sock.port, false, { onMessage() {}, onError() {} });
    v4.close();
  },
);

test('a datagram longer than the receive buffer is reported with its real length', { skip }, async (t) => {
  const b = nativeBinding().binding!;
  const seen: [number, string][] = [];
  const h = b.listenOpen!('127.0.0.1', 0, false, Buffer.alloc(8), (kind, value, _f, _p, to) => seen.push([value, to]));
  assert.notEqual(typeof h, 'number');
  const p = await peer('udp4', '127.0.0.1');
  t.after(() => {
    b.listenClose!(h as object);
    p.sock.close();
  });
  p.sock.send(Buffer.alloc(100), b.listenLocalPort!(h as object), '127.0.0.1');
  const end = Date.now() + 2000;
  while (seen.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [[100, '127.0.0.1']]);
});

test('close is idempotent; later sends answer EBADF; bad arguments throw clear errors', { skip }, () => {
  const b = nativeBinding().binding!;
  const l = listener('127.0.0.1');
  l.sock.close();
  l.sock.close();
  assert.equal(l.sock.send(Buffer.from('x'), '127.0.0.1', 9, undefined)?.code, 'EBADF');
  const cb = () => undefined;
  assert.throws(() => b.listenOpen!('not an address', 0, false, Buffer.alloc(8), cb), /IPv4 or IPv6 address/);
  assert.throws(() => b.listenOpen!('127.0.0.1', 70_000, false, Buffer.alloc(8), cb), TypeError);
  assert.throws(() => b.listenOpen!('127.0.0.1', 0, false, Buffer.alloc(0), cb), TypeError);
  assert.throws(() => (b.listenOpen as (...a: unknown[]) => unknown)('127.0.0.1', 0), TypeError);
  const h = b.listenOpen!('127.0.0.1', 0, false, Buffer.alloc(8), cb) as object;
  try {
    assert.throws(() => b.listenSend!(h, Buffer.alloc(4), 5, '127.0.0.1', 9, ''), /len within buf/);
    assert.throws(() => b.listenSend!(h, Buffer.alloc(4), 4, '127.0.0.1', 0, ''), TypeError);
    assert.throws(() => b.listenSend!(h, Buffer.alloc(4), 4, '::1', 9, ''), /socket's family/);
    assert.throws(() => b.listenSend!(h, Buffer.alloc(4), 4, '127.0.0.1', 9, 'fd00::1'), /socket's family/);
    assert.throws(() => b.listenSend!({} as object, Buffer.alloc(4), 4, '127.0.0.1', 9, ''), TypeError);
    assert.throws(() => b.listenLocalPort!(Buffer.alloc(1)), /not a pxekit:listen socket handle/);
  } finally {
    b.listenClose!(h);
  }
});

test('each kind of socket handle is refused by the functions of the others (shared poll-socket base)', { skip }, () => {
  const b = nativeBinding().binding!;
  const cb = () => undefined;
  const listen = b.listenOpen!('127.0.0.1', 0, false, Buffer.alloc(8), cb) as object;
  const udp = b.open('127.0.0.1', '127.0.0.1', 9, Buffer.alloc(8), cb);
  const dhcp = b.dgramOpen!('127.0.0.1', 0, false, Buffer.alloc(576), new Int32Array(3), cb) as object;
  try {
    assert.throws(() => b.listenLocalPort!(udp), /not a pxekit:listen socket handle/);
    assert.throws(() => b.localPort(listen), /not a pxekit:udp socket handle/);
    assert.throws(() => b.dgramLocalPort!(listen), /not a pxekit:dhcp socket handle/);
    assert.throws(() => b.send(dhcp, Buffer.alloc(1), 1), /not a pxekit:udp socket handle/);
    const ports = [b.listenLocalPort!(listen), b.localPort(udp), b.dgramLocalPort!(dhcp)];
    assert.ok(
      ports.every((p) => p > 0),
      `each still works with its own functions: ${ports.join(', ')}`,
    );
  } finally {
    b.listenClose!(listen);
    b.close(udp);
    b.dgramClose!(dhcp);
  }
});
