/**
 * Test rig for the native lock-step chain (udp-socket.c armChain, udp-arm.c): real loopback sockets and a
 * real file. Shared by chain.test.ts and chain-window.test.ts.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { cachedReadFn } from '../../../core/native/file-read.js';
import { NativeUdpSocket, nativeUdp } from '../../../core/native/udp-socket.js';
import { ReadTransfer, type TransferStats } from '../../../core/tftp/transfer.js';
import type { FileReader } from '../../../core/files/types.js';

export const skip = !nativeUdp().available && `native addon not built (${nativeUdp().reason}); run npm rebuild`;

export const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + (i >> 8)) & 0xff));

/** A file just written (so it is in the page cache), removed after the test. */
export function tempFile(t: TestContext, data: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-chain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  writeFileSync(file, data);
  return file;
}

/** A udp4 peer on loopback: the TFTP client side. */
export async function client(t: TestContext): Promise<{ sock: Socket; port: number; next: () => Promise<Buffer> }> {
  const sock = createSocket('udp4');
  const queue: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | undefined;
  sock.on('message', (m) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(m);
    } else queue.push(m);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  t.after(() => sock.close());
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<Buffer>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no datagram within 2 s')), 2000);
          waiter = (b) => {
            clearTimeout(timer);
            resolve(b);
          };
        });
  return { sock, port: sock.address().port, next };
}

/** A file of `data` open for the chain, a peer, a native socket to it recording callbacks, two slots of `bs`. */
export async function chainRig(t: TestContext, data: Buffer, bs: number) {
  const fd = openSync(tempFile(t, data), 'r');
  t.after(() => closeSync(fd));
  const peer = await client(t);
  const calls: { replied: boolean; steps: number; wire: number }[] = [];
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', peer.port, {
    onPacket: (buf, _len, replied, steps) => void calls.push({ replied, steps, wire: buf.readUInt16BE(2) }),
    onError: (err) => assert.fail(err),
  });
  t.after(() => s.close());
  const slots = [Buffer.alloc(4 + bs), Buffer.alloc(4 + bs)] as const;
  return { fd, peer, calls, s, slots };
}

/**
 * A ReadTransfer of `data` (from a disk file, positional reads and page-cache reads) over a native socket to
 * a test peer; `wakeups()` counts the packets JavaScript saw (the chain answers the rest).
 */
export async function diskTransfer(t: TestContext, data: Buffer, blksize: number, timeoutMs: number) {
  const file = tempFile(t, data);
  const readCached = cachedReadFn()!;
  const peer = await client(t);
  let jsWakeups = 0;
  let transfer: ReadTransfer | undefined;
  const s = new NativeUdpSocket('127.0.0.1', '127.0.0.1', peer.port, {
    onPacket: (buf, len, replied, steps) => {
      jsWakeups++;
      transfer!.chained(steps);
      if (len >= 4 && buf.readUInt16BE(0) === 4) transfer!.ack(buf.readUInt16BE(2), replied);
    },
    onError: (err) => assert.fail(err),
  });
  t.after(() => s.close());
  const done = new Promise<TransferStats>((resolve) => {
    transfer = new ReadTransfer({
      open: () => assert.fail('positional reads only'),
      openReader: async () => {
        const fh = await open(file, 'r');
        return {
          fd: fh.fd,
          read: async (b, o, l, p) => (await fh.read(b, o, l, p)).bytesRead,
          readCached: (b, o, l, p) => readCached(fh.fd, b, o, l, p),
          close: () => fh.close(),
        } satisfies FileReader;
      },
      size: data.length,
      params: { blksize, windowsize: 1, timeoutMs },
      socket: {
        send: (buf, len) => s.send(buf, len),
        armReply: (w, p, l) => s.armReply((4 << 16) | w, p, l),
        armChain: (w, p, l, chain) => s.armChain((4 << 16) | w, p, l, chain),
        chainSteps: () => s.chainSteps(),
        disarm: () => s.disarm(),
      },
      onFinish: resolve,
    });
  });
  transfer!.start();
  return { s, peer, done, wakeups: () => jsWakeups };
}

export const ack = (block: number) => Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]);

/** A lock-step client: takes DATA blocks in order (none twice), ACKs each, until the short one (at most `max`). */
export async function receiveAll(
  peer: Awaited<ReturnType<typeof client>>,
  s: NativeUdpSocket,
  bs: number,
  max: number,
): Promise<Buffer> {
  const got: Buffer[] = [];
  for (let i = 0; i < max; i++) {
    const pkt = await peer.next();
    assert.equal(pkt.readUInt16BE(0), 3, 'DATA');
    const block = pkt.readUInt16BE(2);
    assert.equal(block, got.length + 1, 'blocks in order, none twice');
    got.push(Buffer.from(pkt.subarray(4)));
    peer.sock.send(ack(block), s.localPort, '127.0.0.1');
    if (pkt.length < 4 + bs) break;
  }
  return Buffer.concat(got);
}

/**
 * JavaScript's part of a chain: block `b` of `data` prefilled into its lock-step slot and armed, with the
 * chain on `fd`, for the ACK of block b - 1 (`size`: what the transfer announced). armChain's answer.
 */
export function armBlock(
  s: NativeUdpSocket,
  slots: readonly [Buffer, Buffer],
  fd: number,
  data: Buffer,
  bs: number,
  b: number,
  size = data.length,
): boolean {
  const slot = slots[b & 1]!;
  slot.writeUInt32BE((3 << 16) | b, 0);
  data.copy(slot, 4, (b - 1) * bs, b * bs);
  return s.armChain((4 << 16) | (b - 1), slot, 4 + bs, { fd, slots, block: b, blksize: bs, size });
}
