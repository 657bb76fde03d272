/**
 * The transfer's lock-step fast paths: prefill (the next block read while the client works) and armed
 * replies (a socket that sends the prefilled block by itself when its ACK arrives, as native sockets do).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePacket } from '../../../core/tftp/codec.js';
import { harness } from '../../helpers/transfer-harness.js';

test(
  'prefill: with a cached reader the next block is read before its ACK-triggering ACK, ' +
    'never sent early; a timeout resends the unacknowledged block',
  async () => {
    const data = Buffer.from(Array.from({ length: 512 * 3 + 10 }, (_, i) => i & 0xff));
    const reads: number[] = []; // file positions read, in order
    const reader = {
      read: async () => assert.fail('a cached file needs no async read'),
      readCached: (buf: Buffer, off: number, len: number, pos: number) => {
        reads.push(pos);
        const n = Math.max(0, Math.min(len, data.length - pos));
        data.copy(buf, off, pos, pos + n);
        return n;
      },
      close: async () => undefined,
    };
    const h = harness(data, { openReader: async () => reader, size: data.length });
    h.t.start();
    await h.waitSent(1);
    await h.settle();
    assert.deepEqual(h.dataBlocks(), [1], 'lock-step: one block on the wire');
    assert.deepEqual(reads, [0, 512], 'block 2 was already read (prefilled) while waiting for ACK 1');
    h.clock.advance(1000); // ACK 1 lost: the timer resends block 1, not the prefilled block 2
    assert.deepEqual(h.dataBlocks(), [1, 1]);
    h.ack(1);
    assert.deepEqual(h.dataBlocks(), [1, 1, 2]);
    assert.deepEqual(reads, [0, 512, 1024], 'each block read once, the next one right after a send');
    h.ack(2);
    h.ack(3);
    h.ack(4);
    assert.equal(h.result?.outcome, 'done');
    assert.equal(h.result?.bytes, data.length, 'bytes count what was sent, each block once');
    const got = Buffer.concat(
      h.sent
        .filter((p) => p.op === 'data')
        .slice(1)
        .map((p) => (p.op === 'data' ? p.data : Buffer.alloc(0))),
    );
    assert.ok(got.equals(data));
  },
);

test(
  'armReply (native lock-step fast path): each prefilled block is armed for the ACK before ' +
    'it; a fired reply is counted, never sent twice',
  async () => {
    const data = Buffer.from(Array.from({ length: 512 * 3 + 10 }, (_, i) => (i * 7) & 0xff));
    const reader = {
      read: async () => assert.fail('cached'),
      readCached: (buf: Buffer, off: number, len: number, pos: number) => {
        const n = Math.max(0, Math.min(len, data.length - pos));
        data.copy(buf, off, pos, pos + n);
        return n;
      },
      close: async () => undefined,
    };
    let armed: { ack: number; packet: Buffer } | undefined;
    let disarms = 0;
    const h = harness(data, { openReader: async () => reader, size: data.length }, undefined, {
      armReply: (ack, packet, len) => {
        armed = { ack, packet: Buffer.from(packet.subarray(0, len)) };
        return true;
      },
      disarm: () => void disarms++,
    });
    h.t.start();
    await h.waitSent(1);
    await h.settle();
    const wire: Buffer[] = [];
    // The "socket": on the armed ACK it sends the armed packet itself, then reports replied = true.
    const ackFromClient = (block: number) => {
      if (armed && armed.ack === block) {
        wire.push(armed.packet);
        armed = undefined;
        h.t.ack(block, true);
      } else {
        h.t.ack(block, false);
      }
    };
    assert.equal(armed?.ack, 1, 'block 2 armed for ACK 1');
    ackFromClient(1);
    assert.equal(armed?.ack, 2);
    h.clock.advance(1000); // ACK 2 lost: the timer resends block 2 through send(); the arm for ACK 2 stays
    assert.deepEqual(h.dataBlocks(), [1, 2]);
    ackFromClient(2);
    ackFromClient(3);
    assert.equal(armed, undefined, 'nothing past the last block');
    ackFromClient(4);
    assert.equal(h.result?.outcome, 'done');
    assert.equal(h.result?.bytes, data.length);
    assert.equal(h.result?.blocks, 4);
    const blocks = [h.sent[0]!, ...wire.map((b) => decodePacket(b))];
    assert.deepEqual(
      blocks.map((p) => (p.op === 'data' ? p.block : -1)),
      [1, 2, 3, 4],
      'each block on the wire once (plus the one timer resend)',
    );
    const got = Buffer.concat(blocks.map((p) => (p.op === 'data' ? p.data : Buffer.alloc(0))));
    assert.ok(got.equals(data));
  },
);
