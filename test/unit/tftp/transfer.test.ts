import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { encodeOack, type TftpPacket } from '../../../core/tftp/codec.js';
import { ReadTransfer, type TransferStats } from '../../../core/tftp/transfer.js';
import { FakeClock } from '../../helpers/tftp-fake-clock.js';
import { harness, pattern, recordingSocket } from '../../helpers/transfer-harness.js';

test('lock-step: blocks in order, short last block, stats', async () => {
  const data = pattern(1200);
  const h = harness(data);
  h.t.start();
  await h.waitSent(1);
  for (let b = 1; b <= 2; b++) {
    h.ack(b);
    await h.waitSent(b + 1);
  }
  assert.deepEqual(h.dataBlocks(), [1, 2, 3]);
  const last = h.sent[2];
  assert.ok(last?.op === 'data' && last.data.length === 1200 - 1024);
  assert.equal(h.t.finished, false);
  h.ack(3);
  assert.equal(h.result?.outcome, 'done');
  assert.equal(h.result?.bytes, 1200);
  assert.equal(h.result?.blocks, 3);
  assert.equal(h.result?.retransmits, 0);
  assert.equal(h.clock.armed, 0, 'timer left armed');
});

test('size a multiple of blksize ends with a zero-length block; an empty file is one empty block', async () => {
  const h = harness(pattern(1024));
  h.t.start();
  await h.waitSent(1);
  h.ack(1);
  await h.waitSent(2);
  h.ack(2);
  await h.waitSent(3);
  const last = h.sent[2];
  assert.ok(last?.op === 'data' && last.block === 3 && last.data.length === 0);
  h.ack(3);
  assert.equal(h.result?.outcome, 'done');

  const e = harness(Buffer.alloc(0));
  e.t.start();
  await e.waitSent(1);
  assert.ok(e.sent[0]?.op === 'data' && e.sent[0].data.length === 0);
  e.ack(1);
  assert.equal(e.result?.outcome, 'done');
  assert.equal(e.result?.bytes, 0);
});

test('OACK first, data after ACK 0; the file is opened only then', async () => {
  const oack = encodeOack([['blksize', '1024']]);
  const h = harness(pattern(1500), { oack, params: { blksize: 1024, windowsize: 1, timeoutMs: 1000 } });
  h.t.start();
  assert.equal(h.sent[0]?.op, 'oack');
  await h.settle();
  assert.equal(h.opened, 0);
  h.clock.advance(1000); // OACK lost: resent
  assert.equal(h.sent.filter((p) => p.op === 'oack').length, 2);
  h.ack(0);
  await h.waitSent(3);
  assert.ok(h.sent[2]?.op === 'data' && h.sent[2].data.length === 1024);
  h.ack(1);
  await h.waitSent(4);
  h.ack(2);
  assert.equal(h.result?.outcome, 'done');
  assert.equal(h.result?.retransmits, 1);
});

test('tsize probe: ERROR 8 after an OACK with tsize is a probe, not a failure, and opens nothing', async () => {
  const oack = encodeOack([
    ['tsize', '850528'],
    ['blksize', '1468'],
  ]);
  const h = harness(pattern(10), { oack, tsizeAcked: true });
  h.t.start();
  h.t.handle({ op: 'error', code: 8, message: 'User aborted the transfer' });
  assert.equal(h.result?.outcome, 'probe');
  assert.deepEqual(h.result?.clientError, { code: 8, message: 'User aborted the transfer' });
  assert.equal(h.opened, 0);
  assert.equal(h.clock.armed, 0);

  const noTsize = harness(pattern(10), { oack: encodeOack([['blksize', '1468']]), tsizeAcked: false });
  noTsize.t.start();
  noTsize.t.handle({ op: 'error', code: 8, message: 'no' });
  assert.equal(noTsize.result?.outcome, 'client-error');
});

test("lock-step: duplicate ACKs never cause duplicate sends (Sorcerer's Apprentice)", async () => {
  const h = harness(pattern(512 * 5 + 1));
  h.t.start();
  await h.waitSent(1);
  h.ack(1);
  await h.waitSent(2);
  for (let i = 0; i < 10; i++) h.ack(1);
  h.ack(0);
  await h.settle();
  assert.deepEqual(h.dataBlocks(), [1, 2]);
  h.ack(2);
  await h.waitSent(3);
  h.ack(2);
  await h.settle();
  assert.deepEqual(h.dataBlocks(), [1, 2, 3]);
  h.ack(40000); // stray ACK for a block never sent
  await h.settle();
  assert.deepEqual(h.dataBlocks(), [1, 2, 3]);
});

test('timeout: the outstanding block is resent; retries reset on progress', async () => {
  const h = harness(pattern(2000), { retries: 2 });
  h.t.start();
  await h.waitSent(1);
  h.clock.advance(1000);
  h.clock.advance(1999);
  assert.deepEqual(h.dataBlocks(), [1, 1], 'the second wait is doubled (backoff)');
  h.clock.advance(1);
  assert.deepEqual(h.dataBlocks(), [1, 1, 1]);
  h.ack(1);
  await h.waitSent(4);
  h.clock.advance(1000); // progress reset the backoff: back to the base timeout
  h.clock.advance(2000);
  assert.deepEqual(h.dataBlocks(), [1, 1, 1, 2, 2, 2]);
  assert.equal(h.t.finished, false, 'gave up although progress reset the count');
  h.ack(2);
  await h.waitSent(7);
  h.ack(3);
  await h.waitSent(8);
  h.ack(4);
  assert.equal(h.result?.outcome, 'done');
  assert.equal(h.result?.retransmits, 4);
});

test('give up after the retry budget: ERROR sent, stream destroyed, timer cleared', async () => {
  const h = harness(pattern(100_000), { retries: 5 });
  h.t.start();
  await h.waitSent(1);
  // Waits 1, 2, 4, 8, 8 s, then the sixth timeout (8 s) gives up: 31 s in all.
  h.clock.advance(30_999);
  assert.equal(h.t.finished, false);
  assert.deepEqual(h.dataBlocks(), [1, 1, 1, 1, 1, 1]);
  h.clock.advance(1);
  assert.equal(h.result?.outcome, 'timeout');
  assert.deepEqual(h.dataBlocks(), [1, 1, 1, 1, 1, 1]);
  assert.equal(h.sent.at(-1)?.op, 'error');
  assert.equal(h.src.state.stream?.destroyed, true);
  assert.equal(h.clock.armed, 0);
});

test('windowsize: a window at a time; a mid-window ACK resends from there once; duplicates bounded', async () => {
  const data = pattern(512 * 9 + 392); // 10 blocks
  const h = harness(data, { params: { blksize: 512, windowsize: 4, timeoutMs: 1000 } });
  h.t.start();
  await h.waitSent(4);
  await h.settle();
  assert.deepEqual(h.dataBlocks(), [1, 2, 3, 4]);
  h.ack(4);
  await h.waitSent(8);
  assert.deepEqual(h.dataBlocks().slice(4), [5, 6, 7, 8]);
  h.ack(6); // client saw a gap after 6 (RFC 7440): resend 7, 8 and slide to 9, 10
  await h.waitSent(12);
  assert.deepEqual(h.dataBlocks().slice(8), [7, 8, 9, 10]);
  for (let i = 0; i < 5; i++) h.ack(6); // duplicates of the same gap ACK: no more sends
  await h.settle();
  assert.equal(h.dataBlocks().length, 12);
  h.ack(7); // a new gap, after 7: resend 8..10 once
  for (let i = 0; i < 5; i++) h.ack(7);
  await h.settle();
  assert.deepEqual(h.dataBlocks().slice(12), [8, 9, 10]);
  h.ack(10);
  assert.equal(h.result?.outcome, 'done');
  assert.equal(h.result?.blocks, 10);
  assert.equal(h.result?.bytes, data.length);
  assert.equal(h.result?.retransmits, 5);
});

test('a negotiated timeout (RFC 2349) is used as is: no backoff', async () => {
  const h = harness(pattern(2000), {
    retries: 3,
    params: { blksize: 512, windowsize: 1, timeoutMs: 2000, fixedTimeout: true },
  });
  h.t.start();
  await h.waitSent(1);
  for (let i = 0; i < 3; i++) h.clock.advance(2000);
  assert.deepEqual(h.dataBlocks(), [1, 1, 1, 1]);
  h.clock.advance(2000);
  assert.equal(h.result?.outcome, 'timeout');
});

test('windowsize: timeout resends the whole outstanding window', async () => {
  const h = harness(pattern(512 * 8 + 1), { params: { blksize: 512, windowsize: 4, timeoutMs: 1000 } });
  h.t.start();
  await h.waitSent(4);
  h.ack(2);
  await h.waitSent(8);
  h.clock.advance(1000);
  assert.deepEqual(h.dataBlocks(), [1, 2, 3, 4, 3, 4, 5, 6, 3, 4, 5, 6]);
});

test('block numbers roll over from 65535 to 0 (file over 65535 blocks, blksize 8)', async () => {
  const blocks = 65536 + 40;
  const data = pattern(8 * (blocks - 1) + 5);
  const h = harness(data, { params: { blksize: 8, windowsize: 16, timeoutMs: 1000 } }, 64 * 1024);
  const got: Buffer[] = [];
  const wire: number[] = [];
  h.t.start();
  let seen = 0;
  for (let round = 0; round < 10_000 && !h.result; round++) {
    await h.waitSent(seen + 1);
    let lastWire = -1;
    for (; seen < h.sent.length; seen++) {
      const p = h.sent[seen]!;
      assert.equal(p.op, 'data');
      if (p.op !== 'data') continue;
      got.push(p.data);
      wire.push(p.block);
      lastWire = p.block;
    }
    h.ack(lastWire);
  }
  assert.equal(h.result?.outcome, 'done');
  assert.equal(h.result?.retransmits, 0);
  assert.equal(wire.length, blocks);
  assert.deepEqual(wire.slice(65532, 65538), [65533, 65534, 65535, 0, 1, 2]);
  assert.ok(Buffer.concat(got).equals(data));
});

test('netascii: LF → CR LF, CR → CR NUL; bytes count the converted size', async () => {
  const h = harness(Buffer.from('a\nb\rc\n'), { netascii: true });
  h.t.start();
  await h.waitSent(1);
  const p = h.sent[0];
  assert.ok(p?.op === 'data');
  assert.deepEqual(p.data, Buffer.from('a\r\nb\r\0c\r\n'));
  h.ack(1);
  assert.equal(h.result?.bytes, 9);
});

test('bounded buffering: a stalled client never makes the transfer read ahead more than ~64 KiB', async () => {
  const h = harness(
    Buffer.alloc(8 * 1024 * 1024),
    { params: { blksize: 1468, windowsize: 8, timeoutMs: 1000 } },
    16 * 1024,
  );
  h.t.start();
  await h.waitSent(8);
  await h.settle();
  assert.ok(h.src.state.pulled <= 128 * 1024, `pulled ${h.src.state.pulled} bytes`);
  h.t.abort('test over');
  assert.equal(h.result?.outcome, 'aborted');
  assert.equal(h.sent.at(-1)?.op, 'error');
});

test('read errors end the transfer with ERROR 0', async () => {
  const clock = new FakeClock();
  const sent: TftpPacket[] = [];
  let result: TransferStats | undefined;
  const t = new ReadTransfer({
    open: async () =>
      new Readable({
        read() {
          this.destroy(new Error('EIO'));
        },
      }),
    params: { blksize: 512, windowsize: 1, timeoutMs: 1000 },
    socket: recordingSocket(sent),
    clock,
    onFinish: (s) => (result = s),
  });
  t.start();
  for (let i = 0; i < 50 && !result; i++) await tick();
  assert.equal(result?.outcome, 'read-error');
  assert.equal(result?.reason, 'EIO');
  assert.ok(sent[0]?.op === 'error' && sent[0].code === 0);

  const failOpen = harness(Buffer.alloc(0), {
    open: async () => {
      throw new Error('gone');
    },
  });
  failOpen.t.start();
  await failOpen.settle();
  assert.equal(failOpen.result?.outcome, 'read-error');
});
