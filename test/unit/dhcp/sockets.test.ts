/**
 * The DHCP listener's two socket kinds (core/dhcp/sockets.ts) behave the same on loopback: a burst of
 * datagrams arrives whole, each with its source and in a Buffer of its own; replies reach the sender;
 * an exclusive bind on a taken port fails with EADDRINUSE (what listenError turns into
 * PXE_ERR_LISTEN_IN_USE); close is idempotent and later sends fail instead of throwing. The native kind
 * also drops a datagram longer than its slot with an EMSGSIZE error.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { DHCP_SLOT_BYTES } from '../../../core/native/dhcp-socket.js';
import { nativeBinding } from '../../../core/native/binding.js';
import { bindDhcpSocket, type DhcpSocket, type DhcpTransport } from '../../../core/dhcp/sockets.js';

const nativeSkip = nativeBinding().binding?.dgramOpen === undefined && 'native addon not built (npm rebuild)';

async function client(t: TestContext): Promise<Socket> {
  const c = createSocket('udp4');
  c.bind(0, '127.0.0.1');
  await once(c, 'listening');
  t.after(() => c.close());
  return c;
}

function until(pred: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pred()) resolve();
      else if (Date.now() > deadline) reject(new Error('timed out'));
      else setTimeout(check, 5);
    };
    check();
  });
}

for (const transport of ['native', 'dgram'] as DhcpTransport[]) {
  const skip = transport === 'native' && nativeSkip;

  test(
    `${transport}: a burst arrives whole with its sources; replies go back; buffers are the receiver's`,
    { skip },
    async (t) => {
      const got: { buf: Buffer; address: string; port: number }[] = [];
      const errors: Error[] = [];
      const s = await bindDhcpSocket(transport, '127.0.0.1', 0, true, {
        onMessage: (buf, address, port) => got.push({ buf, address, port }),
        onError: (err) => errors.push(err),
      });
      t.after(() => s.close());
      assert.ok(s.port > 0);
      const c = await client(t);
      const N = 100; // more than one recvmmsg batch
      for (let i = 0; i < N; i++) c.send(Buffer.from(`request ${i} `.padEnd(300, '.')), s.port, '127.0.0.1');
      await until(() => got.length === N);
      assert.deepEqual(
        got.map((g) => g.buf.toString().trimEnd().replace(/\.+$/, '')),
        Array.from({ length: N }, (_, i) => `request ${i} `),
        'every datagram, in order, each in its own buffer (not overwritten by later batches)',
      );
      assert.ok(got.every((g) => g.address === '127.0.0.1' && g.port === c.address().port));
      const replies: string[] = [];
      c.on('message', (m) => replies.push(m.toString()));
      const sent = await new Promise<Error | null>((resolve) =>
        s.send(Buffer.from('OFFER'), c.address().port, '127.0.0.1', resolve),
      );
      assert.equal(sent, null);
      await until(() => replies.length === 1);
      assert.deepEqual(replies, ['OFFER']);
      assert.deepEqual(errors, []);
    },
  );

  test(`${transport}: an exclusive bind on a taken port is EADDRINUSE; close is idempotent`, { skip }, async (t) => {
    const events = { onMessage: () => undefined, onError: () => undefined };
    const a: DhcpSocket = await bindDhcpSocket(transport, '127.0.0.1', 0, false, events);
    t.after(() => a.close());
    await assert.rejects(bindDhcpSocket(transport, '127.0.0.1', a.port, false, events), { code: 'EADDRINUSE' });
    a.close();
    a.close();
  });
}

test(
  'native: a datagram longer than a slot is dropped with EMSGSIZE, the next one still arrives',
  { skip: nativeSkip },
  async (t) => {
    const got: Buffer[] = [];
    const errors: NodeJS.ErrnoException[] = [];
    const s = await bindDhcpSocket('native', '127.0.0.1', 0, true, {
      onMessage: (buf) => got.push(buf),
      onError: (err) => errors.push(err),
    });
    t.after(() => s.close());
    const c = await client(t);
    c.send(Buffer.alloc(DHCP_SLOT_BYTES + 100, 1), s.port, '127.0.0.1');
    c.send(Buffer.from('small'), s.port, '127.0.0.1');
    await until(() => got.length === 1 && errors.length === 1);
    assert.equal(errors[0]!.code, 'EMSGSIZE');
    assert.equal(got[0]!.toString(), 'small');
    s.close();
    const after = await new Promise<Error | null>((resolve) => s.send(Buffer.from('x'), 9, '127.0.0.1', resolve));
    assert.equal((after as NodeJS.ErrnoException).code, 'EBADF', 'a send after close fails, never throws');
  },
);

/** A native socket on 127.0.0.1 with a queue age limit, recording what it hands over and how many it dropped. */
async function agedSocket(t: TestContext, maxAgeMs: number) {
  const seen = { got: [] as string[], stale: 0 };
  const s = await bindDhcpSocket(
    'native',
    '127.0.0.1',
    0,
    true,
    {
      onMessage: (buf) => seen.got.push(buf.toString()),
      onError: () => undefined,
      onStale: (n) => (seen.stale += n),
    },
    maxAgeMs,
  );
  t.after(() => s.close());
  return { s, seen };
}

/**
 * Runs `steps` (statements using send(text) and sleep(ms)) in a child process that sends to `port`, while
 * this process is blocked in spawnSync: nothing is read meanwhile, so the datagrams age in the queue.
 */
function sendFromBlockedChild(port: number, steps: string): void {
  const child = `
    const c = require('node:dgram').createSocket('udp4');
    const send = (m) => new Promise((r) => c.send(Buffer.from(m), ${port}, '127.0.0.1', r));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    (async () => { ${steps}; c.close(); })();`;
  const r = spawnSync(process.execPath, ['-e', child], { timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr?.toString());
}

/**
 * After a flood the receive queue holds about a second of work; a client's request behind it must not
 * wait for that. A child process sends 50 datagrams, waits 600 ms and sends one more while this process
 * is blocked (so nothing is read meanwhile): the 50 are older than the 200 ms limit and dropped unread
 * (counted), the fresh one is delivered.
 */
test(
  'native: datagrams older than the queue age limit are dropped unread; a fresh one behind them arrives',
  { skip: nativeSkip },
  async (t) => {
    const { s, seen } = await agedSocket(t, 200);
    sendFromBlockedChild(
      s.port,
      "for (let i = 0; i < 50; i++) await send('old ' + i); await sleep(600); await send('fresh')",
    );
    await until(() => seen.got.length + seen.stale >= 51);
    assert.deepEqual(seen.got, ['fresh'], 'only the request that did not wait is handled');
    assert.equal(seen.stale, 50);
  },
);

/**
 * Once the queue held a stale request, requests that waited more than a quarter of the limit are dropped
 * too until the queue is empty: a child sends 50 datagrams, waits 700 ms, sends 20 more and waits 250 ms
 * (this process blocked meanwhile), then this process sends one. With the limit alone (400 ms) the 20
 * (~250 ms old) would be handled; with the lower limit while overloaded (100 ms) only the fresh one is.
 */
test(
  'native: after a stale request, the queue is drained down to fresh requests (a quarter of the limit)',
  { skip: nativeSkip },
  async (t) => {
    const { s, seen } = await agedSocket(t, 400);
    sendFromBlockedChild(
      s.port,
      "for (let i = 0; i < 50; i++) await send('old ' + i); await sleep(700); " +
        "for (let i = 0; i < 20; i++) await send('mid ' + i); await sleep(250)",
    );
    const me = createSocket('udp4');
    t.after(() => me.close());
    me.send(Buffer.from('fresh'), s.port, '127.0.0.1');
    await until(() => seen.got.length + seen.stale >= 71);
    assert.deepEqual(seen.got, ['fresh'], 'only the request that did not wait is handled');
    assert.equal(seen.stale, 70);
  },
);
