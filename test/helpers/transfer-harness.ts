/** A ReadTransfer under test with a fake clock, a recording socket and a stream source (test/unit/tftp/transfer*.test.ts). */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { decodePacket, type TftpPacket } from '../../core/tftp/codec.js';
import { ReadTransfer, type ReadTransferOptions, type TransferStats } from '../../core/tftp/transfer.js';
import { sendOnlySocket, type TransferSocket } from '../../core/tftp/transfer-socket.js';
import { FakeClock } from './tftp-fake-clock.js';

/** A readable over `data` in `chunk`-byte pieces that records how much was pulled. */
export function source(data: Buffer, chunk = 4096) {
  const state = { pulled: 0, stream: undefined as Readable | undefined };
  const make = () => {
    let pos = 0;
    const s = new Readable({
      highWaterMark: chunk,
      read() {
        if (pos >= data.length) return void this.push(null);
        const end = Math.min(pos + chunk, data.length);
        state.pulled += end - pos;
        this.push(data.subarray(pos, end));
        pos = end;
      },
    });
    state.stream = s;
    return s;
  };
  return { state, make };
}

/** The socket of a transfer under test: records what was sent (copied: the transfer reuses its buffers). */
export function recordingSocket(sent: TftpPacket[], arm: Partial<TransferSocket> = {}) {
  return { ...sendOnlySocket((buf) => sent.push(decodePacket(Buffer.from(buf)))), ...arm };
}

export function harness(
  data: Buffer,
  opts: Partial<ReadTransferOptions> = {},
  chunk?: number,
  arm?: Pick<TransferSocket, 'armReply' | 'disarm'>,
) {
  const clock = new FakeClock();
  const sent: TftpPacket[] = [];
  let result: TransferStats | undefined;
  let opened = 0;
  const src = source(data, chunk);
  const t = new ReadTransfer({
    open: async () => {
      opened++;
      return src.make();
    },
    params: { blksize: 512, windowsize: 1, timeoutMs: 1000 },
    socket: recordingSocket(sent, arm),
    clock,
    onFinish: (s) => {
      assert.equal(result, undefined, 'onFinish called twice');
      result = s;
    },
    ...opts,
  });
  const h = {
    t,
    clock,
    sent,
    src,
    get result() {
      return result;
    },
    get opened() {
      return opened;
    },
    ack: (block: number) => t.handle({ op: 'ack', block }),
    /** Lets the stream deliver until `n` packets were sent (bounded). */
    async waitSent(n: number) {
      for (let i = 0; i < 1000 && sent.length < n; i++) await tick();
      assert.ok(sent.length >= n, `expected ${n} packets, got ${sent.length}`);
    },
    async settle() {
      for (let i = 0; i < 20; i++) await tick();
    },
    dataBlocks: () => sent.filter((p) => p.op === 'data').map((p) => (p.op === 'data' ? p.block : -1)),
  };
  return h;
}

export const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
