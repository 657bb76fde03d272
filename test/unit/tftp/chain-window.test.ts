/**
 * The chain's file windows (core/native/file-window.c): blocks go out from a shared read-only mapping of the
 * file, 512 KiB at a time. A file larger than one window, two chains on one file, and a file cut short under
 * the chain (the send fails inside the kernel, the socket reports a read error: no crash, no bad block).
 */
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NativeUdpSocket } from '../../../core/native/udp-socket.js';
import { ack, armBlock, client, diskTransfer, pattern, receiveAll, skip, tempFile } from './chain-rig.js';

const WINDOW = 512 << 10; // FILE_WINDOW_BYTES

test('a file over two windows arrives byte for byte (a block straddles the window boundary)', { skip }, async (t) => {
  const BS = 1468; // 512 KiB is not a multiple: block 358 holds bytes on both sides of the boundary
  const data = pattern(WINDOW + 40 * BS + 11);
  const { s, peer, done, wakeups } = await diskTransfer(t, data, BS, 1000);
  const got = await receiveAll(peer, s, BS, 2000);
  const stats = await done;
  assert.ok(got.equals(data), 'the file arrives byte for byte');
  assert.equal(stats.outcome, 'done');
  assert.ok(wakeups() < 12, `JavaScript woke ${wakeups()} times for ${stats.blocks} ACKs`);
});

test('two chains on one file share its window; each sends its own blocks', { skip }, async (t) => {
  const BS = 512;
  const data = pattern(64 * BS + 1);
  const fd = openSync(tempFile(t, data), 'r');
  t.after(() => closeSync(fd));
  const rigs = await Promise.all(
    [0, 1].map(async () => {
      const peer = await client(t);
      const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', peer.port, {
        onPacket: () => undefined,
        onError: (err) => assert.fail(err),
      });
      t.after(() => s.close());
      const slots = [Buffer.alloc(4 + BS), Buffer.alloc(4 + BS)] as const;
      armBlock(s, slots, fd, data, BS, 2);
      return { peer, s };
    }),
  );
  // Interleaved: client 0 is always a few blocks ahead of client 1.
  for (let b = 1; b <= 60; b++) {
    for (const [i, { peer, s }] of rigs.entries()) {
      const block = b - i * 3;
      if (block < 1) continue;
      peer.sock.send(ack(block), s.localPort, '127.0.0.1');
      const got = await peer.next();
      assert.equal(got.readUInt16BE(2), block + 1);
      assert.ok(got.subarray(4).equals(data.subarray(block * BS, (block + 1) * BS)), `chain ${i}: block ${block + 1}`);
    }
  }
});

test('a file cut short under the chain: the socket reports a read error, sends no bad block', { skip }, async (t) => {
  const BS = 1468;
  const data = pattern(40 * BS); // 15 pages
  const file = tempFile(t, data);
  const fd = openSync(file, 'r');
  t.after(() => closeSync(fd));
  const peer = await client(t);
  const errors: NodeJS.ErrnoException[] = [];
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', peer.port, {
    onPacket: () => undefined,
    onError: (err) => void errors.push(err),
  });
  t.after(() => s.close());
  const slots = [Buffer.alloc(4 + BS), Buffer.alloc(4 + BS)] as const;
  armBlock(s, slots, fd, data, BS, 2);
  for (let b = 1; b <= 5; b++) {
    peer.sock.send(ack(b), s.localPort, '127.0.0.1');
    assert.equal((await peer.next()).readUInt16BE(2), b + 1);
  }
  // Block 6 is out and block 7 armed (bytes 8808..10276, page 2). The file now ends in page 1.
  const w = openSync(file, 'r+');
  ftruncateSync(w, 3 * BS);
  closeSync(w);
  peer.sock.send(ack(6), s.localPort, '127.0.0.1');
  const deadline = Date.now() + 2000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(errors[0]?.syscall, 'pread', 'reported as the file read it is');
  assert.equal(errors[0]?.code, 'EIO');
  // Nothing more from the slots (their bytes are not the file's); other packets, an ERROR, still go out.
  s.send(slots[1], 4 + BS);
  const error = Buffer.from([0, 5, 0, 0, 0x78, 0]);
  s.send(error);
  const next = await peer.next();
  assert.ok(next.equals(error), `only the ERROR reached the client (got opcode ${next.readUInt16BE(0)})`);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(errors.at(-1)?.syscall, 'send', 'the slot send was refused');
});

test(
  'once no transfer holds a window, the file is no longer mapped (its inode is not kept alive)',
  { skip },
  async (t) => {
    const BS = 1468;
    const data = pattern(300 * BS + 5);
    const { s, peer, done } = await diskTransfer(t, data, BS, 1000);
    const mapped = () =>
      readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((l) => l.includes('pxekit-chain-')).length;
    let mappedMidway = 0;
    for (let i = 0; i < 400; i++) {
      const pkt = await peer.next();
      const block = pkt.readUInt16BE(2);
      if (block === 100) mappedMidway = mapped(); // block 100 came from the chain: the window is mapped
      peer.sock.send(ack(block), s.localPort, '127.0.0.1');
      if (pkt.length < 4 + BS) break;
    }
    assert.ok(mappedMidway > 0, 'a window is mapped while the chain runs');
    assert.equal((await done).outcome, 'done');
    s.close(); // the transfer's socket lets go of its window
    assert.equal(mapped(), 0, 'no window left mapped');
  },
);
