/**
 * The transfer-socket seam (core/tftp/transfer-socket.ts): the server's one choice of socket kind, and each
 * kind against a real node:dgram peer on loopback — packets both ways, `send(buf, len)` sends only `len`
 * bytes, an ICMP port unreachable reported as ECONNREFUSED, armed replies (native only; dgram and send-only
 * sockets decline so the transfer sends itself).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { nativeUdp } from '../../../core/native/udp-socket.js';
import { encodeAck } from '../../../core/tftp/codec.js';
import {
  chooseTransferSockets,
  sendOnlySocket,
  type TransferSocket,
  type TransferSocketEvents,
} from '../../../core/tftp/transfer-socket.js';

const native = nativeUdp();
const noNative = native.available ? false : `native addon not built: ${native.reason ?? ''}`;

/** A client on loopback; `from` is the port of the last datagram it got (the transfer socket's). */
async function peer(): Promise<{ sock: Socket; port: number; next: () => Promise<Buffer>; from: () => number }> {
  const sock = createSocket('udp4');
  const queue: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  let from = 0;
  sock.on('message', (m, rinfo) => {
    from = rinfo.port;
    if (waiters.length > 0) waiters.shift()!(m);
    else queue.push(m);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<Buffer>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no datagram within 2 s')), 2000);
          waiters.push((b) => {
            clearTimeout(timer);
            resolve(b);
          });
        });
  return { sock, port: sock.address().port, next, from: () => from };
}

/** Events of one socket, with a way to wait for the next packet (bounded). */
function recorder() {
  const packets: { bytes: Buffer; replied: boolean }[] = [];
  const errors: NodeJS.ErrnoException[] = [];
  const events: TransferSocketEvents = {
    onPacket: (buf, len, replied) => packets.push({ bytes: Buffer.from(buf.subarray(0, len)), replied }),
    onError: (err) => errors.push(err),
  };
  const until = async (what: () => boolean) => {
    for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(what(), 'timed out');
  };
  return { packets, errors, events, until };
}

test('the server chooses once: single-port sends from the listening socket, dgram when asked, native when built', () => {
  const single = chooseTransferSockets('native', true);
  assert.equal(single.transport, 'single-port');
  assert.equal(single.open, undefined);
  assert.equal(chooseTransferSockets('dgram', false).transport, 'dgram');
  const auto = chooseTransferSockets('auto', false);
  if (native.available) {
    assert.equal(auto.transport, 'native');
    assert.equal(auto.nativeUnavailable, undefined);
  } else {
    assert.equal(auto.transport, 'dgram');
    assert.equal(auto.nativeUnavailable, native.reason);
  }
});

for (const kind of ['dgram', 'native'] as const) {
  test(
    `${kind} transfer socket: packets both ways, send(buf, len) sends len bytes, armReply ` +
      `${kind === 'native' ? 'answers the ACK by itself' : 'declined'}`,
    { skip: kind === 'native' && noNative },
    async (t) => {
      const p = await peer();
      const r = recorder();
      const { open } = chooseTransferSockets(kind, false);
      const s: TransferSocket = await open!('127.0.0.1', { address: '127.0.0.1', port: p.port }, r.events);
      t.after(() => {
        s.close();
        p.sock.close();
      });
      s.send(Buffer.from('hello-and-more'), 5);
      const first = await p.next();
      assert.equal(first.toString(), 'hello');
      const from = p.from();
      p.sock.send(Buffer.from('from client'), from, '127.0.0.1');
      await r.until(() => r.packets.length === 1);
      assert.deepEqual(r.packets[0], { bytes: Buffer.from('from client'), replied: false });

      const block = Buffer.from('DATA 8');
      const armed = s.armReply(7, block, block.length);
      assert.equal(armed, kind === 'native');
      p.sock.send(encodeAck(7), from, '127.0.0.1');
      await r.until(() => r.packets.length === 2);
      assert.equal(r.packets[1]!.replied, armed, 'replied is reported only when the socket sent the armed block');
      if (armed) assert.equal((await p.next()).toString(), 'DATA 8', 'the armed block went out on the ACK');
      s.disarm();
      s.close();
      s.send(Buffer.from('after close')); // ignored, never throws
    },
  );

  test(
    `${kind} transfer socket: a closed client port is reported as ECONNREFUSED`,
    { skip: kind === 'native' && noNative },
    async (t) => {
      const p = await peer();
      const port = p.port;
      p.sock.close(); // nobody listens there now: the kernel answers ICMP port unreachable
      const r = recorder();
      const s = await chooseTransferSockets(kind, false).open!('127.0.0.1', { address: '127.0.0.1', port }, r.events);
      t.after(() => s.close());
      s.send(Buffer.from('anyone?'));
      await r.until(() => r.errors.length > 0);
      assert.equal(r.errors[0]!.code, 'ECONNREFUSED');
    },
  );
}

test('a send-only socket (single-port, inject) passes len bytes on and never arms', () => {
  const got: string[] = [];
  const s = sendOnlySocket((buf) => got.push(buf.toString()));
  s.send(Buffer.from('abcdef'), 3);
  s.send(Buffer.from('xyz'));
  assert.deepEqual(got, ['abc', 'xyz']);
  assert.equal(s.armReply(1, Buffer.from('d'), 1), false);
  s.disarm();
  s.close();
});
