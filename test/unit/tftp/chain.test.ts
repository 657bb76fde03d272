/**
 * The native lock-step chain (udp-socket.c armChain): after the armed block goes out, the socket arms the
 * next one with its bytes in a shared mapping of the file (file-window.c), with no JavaScript per block.
 * Tested on real loopback sockets and a real file: the raw binding (steps, where it stops), then a whole
 * ReadTransfer driven by a lock-step client (every byte right, stats right, JavaScript woken for a few
 * packets only).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replyBatchCounts, replyBatching } from '../../../core/native/udp-socket.js';
import { ack, armBlock, chainRig, diskTransfer, pattern, receiveAll, skip } from './chain-rig.js';

test(
  'armChain: answers ACK after ACK from the file alone, stops before the block that ends it',
  { skip },
  async (t) => {
    const BS = 8;
    const data = pattern(10 * BS + 3); // blocks 1..10 full, block 11 has 3 bytes
    const { fd, peer, calls, s, slots } = await chainRig(t, data, BS);
    // JavaScript prefilled block 2 (slot 2 & 1 = 0) and arms it for ACK 1.
    assert.equal(armBlock(s, slots, fd, data, BS, 2), true);
    for (let b = 1; b <= 9; b++) {
      peer.sock.send(ack(b), s.localPort, '127.0.0.1');
      const got = await peer.next();
      assert.equal(got.readUInt16BE(0), 3, 'DATA');
      assert.equal(got.readUInt16BE(2), b + 1);
      assert.ok(got.subarray(4).equals(data.subarray(b * BS, (b + 1) * BS)), `block ${b + 1} bytes`);
      if (b === 4) assert.equal(s.chainSteps(), 4, 'ACKs 1-4 answered by the chain, reported on demand');
    }
    // ACK 9 fired block 10; block 11 would end the file, so JavaScript was called for that one ACK only.
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, [{ replied: true, steps: 4, wire: 9 }], 'ACKs 5-8 by the chain, reported with ACK 9');
    peer.sock.send(ack(10), s.localPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls.at(-1), { replied: false, steps: 0, wire: 10 }, 'the chain is over: nothing armed');
  },
);

test(
  'armChain on a file shorter than the size given (it shrank since) arms the one reply, no chain',
  { skip },
  async (t) => {
    const BS = 8;
    const data = pattern(3 * BS + 2);
    const { fd, peer, calls, s, slots } = await chainRig(t, data, BS);
    armBlock(s, slots, fd, data, BS, 2, 1000);
    peer.sock.send(ack(1), s.localPort, '127.0.0.1');
    assert.equal((await peer.next()).readUInt16BE(2), 2, 'the armed block JavaScript filled goes out');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, [{ replied: true, steps: 0, wire: 1 }], 'JavaScript (and its reads) take it from there');
  },
);

test(
  'armChain sends from the mapped file: every block right, across residency checks and after a re-arm mid-way',
  { skip },
  async (t) => {
    const BS = 1468; // the chain asks mincore about 64 KiB at a time (RESIDENT_AHEAD, udp-arm.c)
    const data = pattern(40 * BS + 100); // blocks 1..40 full, block 41 short
    const { fd, peer, calls, s, slots } = await chainRig(t, data, BS);
    /** JavaScript's part: block `b` prefilled into its slot and armed with the chain for the ACK of b - 1. */
    const arm = (b: number) => assert.equal(armBlock(s, slots, fd, data, BS, b), true);
    const expectBlock = async (b: number) => {
      const got = await peer.next();
      assert.equal(got.readUInt16BE(2), b, 'DATA block number');
      assert.ok(got.subarray(4).equals(data.subarray((b - 1) * BS, b * BS)), `block ${b} bytes`);
    };
    arm(2);
    for (let b = 1; b <= 17; b++) {
      peer.sock.send(ack(b), s.localPort, '127.0.0.1');
      await expectBlock(b + 1);
    }
    assert.equal(s.chainSteps(), 17);
    // JavaScript takes over mid-file and arms block 20 again (the chain maps its window anew).
    s.disarm();
    peer.sock.send(ack(18), s.localPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, [{ replied: false, steps: 0, wire: 18 }], 'disarmed: the ACK goes to JavaScript');
    arm(20);
    for (let b = 19; b <= 38; b++) {
      peer.sock.send(ack(b), s.localPort, '127.0.0.1');
      await expectBlock(b + 1);
    }
    // ACK 39 fires block 40, the last full one; block 41 would end the file: JavaScript takes over.
    peer.sock.send(ack(39), s.localPort, '127.0.0.1');
    await expectBlock(40);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls.at(-1), { replied: true, steps: 20, wire: 39 }, 'ACKs 19-38 by the chain');
    // The chain stopped by itself and called JavaScript: the block it sent last is whole in its slot.
    assert.equal(slots[0].readUInt16BE(2), 40);
    assert.ok(slots[0].subarray(4).equals(data.subarray(39 * BS, 40 * BS)), 'slot 0 holds block 40 for a resend');
  },
);

test(
  'a ReadTransfer over a native socket and a disk file: the chain carries the steady state, every byte right',
  { skip },
  async (t) => {
    const BS = 512;
    const data = pattern(200 * BS + 77); // 201 blocks
    const { s, peer, done, wakeups } = await diskTransfer(t, data, BS, 1000);
    const got = await receiveAll(peer, s, BS, 400);
    const stats = await done;
    assert.ok(got.equals(data), 'the file arrives byte for byte');
    assert.equal(stats.outcome, 'done');
    assert.equal(stats.bytes, data.length);
    assert.equal(stats.blocks, 201);
    assert.equal(stats.retransmits, 0);
    assert.ok(wakeups() < 10, `JavaScript woke ${wakeups()} times for 201 ACKs (the chain answered the rest)`);
  },
);

test(
  'while the chain runs, the slots hold the sent and the armed block whole whenever JavaScript looks',
  { skip },
  async (t) => {
    const BS = 1468;
    const data = pattern(30 * BS + 5);
    const { fd, peer, s, slots } = await chainRig(t, data, BS);
    const whole = (slot: Buffer, b: number) =>
      slot.readUInt16BE(0) === 3 &&
      slot.readUInt16BE(2) === b &&
      slot.subarray(4).equals(data.subarray((b - 1) * BS, b * BS));
    armBlock(s, slots, fd, data, BS, 2);
    for (let b = 1; b <= 15; b++) {
      peer.sock.send(ack(b), s.localPort, '127.0.0.1');
      const got = await peer.next();
      assert.ok(got.subarray(4).equals(data.subarray(b * BS, (b + 1) * BS)), `block ${b + 1} on the wire`);
    }
    // Block 16 went out for ACK 15; block 17 is armed. JavaScript asks first (as transfer.ts does on a timeout).
    assert.equal(s.chainSteps(), 15);
    assert.ok(whole(slots[0], 16), 'slot 0: block 16, the last sent (a resend needs it)');
    assert.ok(whole(slots[1], 17), 'slot 1: block 17, armed');
    // A JavaScript resend of block 16 from its slot, then the chain goes on where it was.
    s.send(slots[0], 4 + BS);
    assert.ok((await peer.next()).equals(slots[0].subarray(0, 4 + BS)), 'the resend is block 16');
    for (let b = 16; b <= 20; b++) {
      peer.sock.send(ack(b), s.localPort, '127.0.0.1');
      const got = await peer.next();
      assert.equal(got.readUInt16BE(2), b + 1);
      assert.ok(got.subarray(4).equals(data.subarray(b * BS, (b + 1) * BS)), `block ${b + 1} on the wire`);
    }
    // JavaScript stops the chain (a transfer that ends or changes course): both slots stay whole.
    s.disarm();
    assert.ok(whole(slots[1], 21), 'slot 1 after disarm: block 21, the last sent');
    assert.ok(whole(slots[0], 22), 'slot 0 after disarm: block 22, armed before');
  },
);

test(
  'a ReadTransfer whose ACK is lost mid-chain resends the right block from its slot (the timeout path)',
  { skip },
  async (t) => {
    const BS = 1468;
    const data = pattern(60 * BS + 9); // 61 blocks
    const { s, peer, done } = await diskTransfer(t, data, BS, 200);
    const got: Buffer[] = [];
    let dropped = false;
    for (let i = 0; i < 200; i++) {
      const pkt = await peer.next();
      const block = pkt.readUInt16BE(2);
      if (block !== got.length + 1) {
        assert.equal(block, got.length, 'only the last block is ever sent again');
        assert.ok(pkt.subarray(4).equals(got.at(-1)!), `block ${block} resent byte for byte`);
      } else got.push(Buffer.from(pkt.subarray(4)));
      // The ACK of block 25 (sent by the chain from the mapping) is lost once: the server's timer resends 25.
      if (block === 25 && !dropped) dropped = true;
      else peer.sock.send(ack(block), s.localPort, '127.0.0.1');
      if (pkt.length < 4 + BS) break;
    }
    const stats = await done;
    assert.ok(dropped);
    assert.ok(Buffer.concat(got).equals(data), 'the file arrives byte for byte');
    assert.equal(stats.outcome, 'done');
    assert.equal(stats.retransmits, 1, 'one timeout, one resend');
  },
);

test(
  'chains of several transfers answered in one turn: each gets its own blocks (one batch, the mode this process runs)',
  { skip },
  async (t) => {
    const BS = 1468;
    const files = [pattern(30 * BS), pattern(30 * BS + 7).reverse(), Buffer.alloc(30 * BS, 0x5a)];
    const rigs = await Promise.all(files.map((data) => chainRig(t, data, BS)));
    rigs.forEach((r, i) => assert.equal(armBlock(r.s, r.slots, r.fd, files[i]!, BS, 2), true));
    const before = replyBatchCounts();
    for (let b = 1; b <= 25; b++) {
      // Back to back: the server reads the three ACKs in one turn of its loop and answers them together.
      for (const r of rigs) r.peer.sock.send(ack(b), r.s.localPort, '127.0.0.1');
      for (const [i, r] of rigs.entries()) {
        const got = await r.peer.next();
        assert.equal(got.readUInt16BE(2), b + 1, `transfer ${i}: DATA ${b + 1}`);
        assert.ok(got.subarray(4).equals(files[i]!.subarray(b * BS, (b + 1) * BS)), `transfer ${i}: block ${b + 1}`);
      }
    }
    const after = replyBatchCounts();
    const [ring, sendmsg] = [after.ring - before.ring, after.sendmsg - before.sendmsg];
    const mode = replyBatching();
    if (mode === 'off') assert.deepEqual([ring, sendmsg], [0, 0], 'each reply sent at once, none batched');
    else if (mode === 'sendmsg') assert.deepEqual([ring, sendmsg], [0, 75], 'every reply by sendmsg');
    else {
      assert.equal(ring + sendmsg, 75, 'every reply through the batch');
      assert.ok(ring >= 30, `most replies by io_uring (${ring} of 75)`);
    }
  },
);
