import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyQueue, type ReplySocket } from '../../../core/dhcp/reply-queue.js';

/** A socket whose sends complete only when the test says so. */
function fakeSocket() {
  const pending: Array<{ to: string; done: (err: Error | null) => void }> = [];
  const sent: string[] = [];
  const socket: ReplySocket = {
    send(msg, _port, address, cb) {
      sent.push(msg.toString());
      pending.push({ to: address, done: cb });
    },
  };
  const complete = (n = pending.length, err: Error | null = null) => {
    for (const p of pending.splice(0, n)) p.done(err);
  };
  return { socket, sent, pending, complete };
}

test('replies go straight to the socket while it keeps up', () => {
  const f = fakeSocket();
  const q = new ReplyQueue(f.socket, { maxInFlight: 4 });
  for (let i = 0; i < 4; i++) q.send(Buffer.from(`r${i}`), 68, '10.0.0.1');
  assert.deepEqual(f.sent, ['r0', 'r1', 'r2', 'r3']);
  assert.equal(q.queued, 0);
  f.complete();
  assert.equal(q.inFlight, 0);
});

test('beyond maxInFlight replies wait in order, and leave as sends complete', () => {
  const f = fakeSocket();
  const q = new ReplyQueue(f.socket, { maxInFlight: 2, maxQueued: 10 });
  for (let i = 0; i < 5; i++) q.send(Buffer.from(`r${i}`), 68, '10.0.0.1');
  assert.deepEqual(f.sent, ['r0', 'r1']);
  assert.equal(q.queued, 3);
  f.complete(1);
  assert.deepEqual(f.sent, ['r0', 'r1', 'r2']);
  f.complete();
  f.complete();
  assert.deepEqual(f.sent, ['r0', 'r1', 'r2', 'r3', 'r4']);
  assert.equal(q.queued, 0);
});

test('a full queue drops its oldest reply, never grows, and says so', () => {
  const f = fakeSocket();
  const drops: string[] = [];
  const q = new ReplyQueue(f.socket, {
    maxInFlight: 1,
    maxQueued: 3,
    onDrop: (r, to) => drops.push(`${r} ${to.address}`),
  });
  for (let i = 0; i < 10_000; i++) q.send(Buffer.from(`r${i}`), 68, `10.0.${i >> 8}.${i & 0xff}`);
  assert.equal(q.queued, 3);
  assert.equal(q.dropped, 10_000 - 1 - 3);
  assert.equal(drops[0], 'queue-full 10.0.0.1');
  f.complete(1);
  // The newest replies survive: a real client's answer after a flood is not stuck behind junk.
  assert.deepEqual(f.sent, ['r0', 'r9997']);
});

test('replies that waited longer than maxAgeMs are dropped instead of sent', () => {
  const f = fakeSocket();
  let now = 0;
  const drops: string[] = [];
  const q = new ReplyQueue(f.socket, { maxInFlight: 1, maxAgeMs: 2000, now: () => now, onDrop: (r) => drops.push(r) });
  q.send(Buffer.from('a'), 68, '10.0.0.1');
  q.send(Buffer.from('stale'), 68, '10.0.0.2');
  now = 2500;
  q.send(Buffer.from('fresh'), 68, '10.0.0.3');
  f.complete(1);
  assert.deepEqual(f.sent, ['a', 'fresh']);
  assert.deepEqual(drops, ['too-old']);
});

test('a failed send is reported and does not stall the queue', () => {
  const f = fakeSocket();
  const errors: string[] = [];
  const q = new ReplyQueue(f.socket, { maxInFlight: 1, onError: (e) => errors.push(e.message) });
  q.send(Buffer.from('a'), 68, '10.0.0.1');
  q.send(Buffer.from('b'), 68, '10.0.0.1');
  f.complete(1, new Error('EHOSTUNREACH'));
  assert.deepEqual(errors, ['EHOSTUNREACH']);
  assert.deepEqual(f.sent, ['a', 'b']);
});
