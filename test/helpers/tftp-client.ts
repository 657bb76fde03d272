/**
 * A minimal TFTP read client for tests (loopback only): options, RFC 7440 windows, block rollover,
 * re-ACK on gaps and timeouts, every wait bounded. Hashes as it goes so big files cost no memory.
 */
import { createHash } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decodePacket, encodeAck, encodeRequest, type TftpPacket } from '../../core/tftp/codec.js';

export interface GetOptions {
  port: number;
  host?: string;
  file: string;
  mode?: string;
  options?: Record<string, string>;
  /** Per-packet timeout before re-sending the RRQ or the last ACK (default 500 ms). */
  timeoutMs?: number;
  /** Consecutive timeouts before failing (default 10). */
  retries?: number;
  /** Hard bound for the whole transfer (default 120 s). */
  totalTimeoutMs?: number;
  /** Keep the bytes (small files only). */
  keep?: boolean;
  /** After the last block, keep answering retransmissions for this long (RFC 1350 dally; default 0). */
  dallyMs?: number;
  /** Reply to the OACK with this ERROR instead of ACK 0 (e.g. EDK2's size probe: code 8). */
  abortAfterOack?: { code: number; message: string };
  /** Send from this local address (a simulated machine's leased address in the boot-storm bench). */
  localAddress?: string;
}

export interface GetResult {
  bytes: number;
  sha256: string;
  blocks: number;
  oack: Record<string, string> | undefined;
  /** ERROR sent by the server, if the transfer ended with one. */
  error: { code: number; message: string } | undefined;
  serverPort: number | undefined;
  /** Waits that ran out (each re-sent the RRQ or the last ACK): lost packets or a slow server. */
  timeouts: number;
  /** DATA that was not the next block (duplicates from server retransmissions, or gaps). */
  outOfOrder: number;
  data?: Buffer;
}

export function tftpGet(o: GetOptions): Promise<GetResult> {
  const host = o.host ?? '127.0.0.1';
  const timeoutMs = o.timeoutMs ?? 500;
  const maxRetries = o.retries ?? 10;
  const sock = createSocket('udp4');
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  const rrq = encodeRequest('rrq', o.file, o.mode ?? 'octet', Object.entries(o.options ?? {}));
  let blksize = 512;
  let ws = 1;
  let expected = 1; // absolute block number wanted next
  let inWindow = 0;
  let bytes = 0;
  let tid: number | undefined;
  let oack: Record<string, string> | undefined;
  let retries = 0;
  let timeouts = 0;
  let outOfOrder = 0;
  let reackedFor = 0;
  let lastAck: Buffer | undefined;

  return new Promise<GetResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const total = setTimeout(
      () => finish(new Error(`transfer of ${o.file} exceeded ${o.totalTimeoutMs ?? 120_000} ms`)),
      o.totalTimeoutMs ?? 120_000,
    );
    let finished = false;
    function finish(err: Error | undefined, error?: { code: number; message: string }) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(total);
      sock.close();
      if (err) return reject(err);
      const r: GetResult = {
        bytes,
        sha256: hash.digest('hex'),
        blocks: expected - 1,
        oack,
        error,
        serverPort: tid,
        timeouts,
        outOfOrder,
      };
      if (o.keep) r.data = Buffer.concat(kept);
      resolve(r);
    }
    const send = (buf: Buffer) => sock.send(buf, tid ?? o.port, host);
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(onTimeout, timeoutMs);
    };
    function onTimeout() {
      timeouts++;
      if (++retries > maxRetries) return finish(new Error(`no answer after ${maxRetries} retries (block ${expected})`));
      if (tid === undefined) sock.send(rrq, o.port, host);
      else send(encodeAck(expected - 1));
      arm();
    }
    function onMessage(msg: Buffer, rinfo: RemoteInfo) {
      if (finished) return;
      if (lastAck) {
        if (rinfo.port === tid) send(lastAck); // dallying: the server did not get our final ACK
        return;
      }
      if (tid === undefined) tid = rinfo.port;
      else if (rinfo.port !== tid) return;
      let p: TftpPacket;
      try {
        p = decodePacket(msg);
      } catch (err) {
        return finish(err as Error);
      }
      retries = 0;
      if (p.op === 'error') return finish(undefined, { code: p.code, message: p.message });
      if (p.op === 'oack' && expected === 1) {
        oack = Object.fromEntries(p.options.values);
        if (oack.blksize) blksize = Number(oack.blksize);
        if (oack.windowsize) ws = Number(oack.windowsize);
        if (o.abortAfterOack) {
          const err = Buffer.concat([
            Buffer.from([0, 5, 0, o.abortAfterOack.code]),
            Buffer.from(o.abortAfterOack.message + '\0'),
          ]);
          clearTimeout(timer);
          sock.send(err, tid, host, () => finish(undefined));
          return;
        }
        send(encodeAck(0));
        return arm();
      }
      if (p.op !== 'data') return;
      if (p.block === (expected & 0xffff)) {
        hash.update(p.data);
        if (o.keep) kept.push(Buffer.from(p.data));
        bytes += p.data.length;
        expected++;
        inWindow++;
        if (p.data.length < blksize) {
          // RFC 1350 §6 dally: stay a while to re-ACK a retransmitted last block (our final ACK may be lost),
          // and close only once the final ACK has left (an unconnected send completes on a later tick).
          clearTimeout(timer);
          const last = encodeAck(expected - 1);
          lastAck = last;
          sock.send(last, tid, host, () => {
            if (!o.dallyMs) return finish(undefined);
            timer = setTimeout(() => finish(undefined), o.dallyMs);
          });
          return;
        }
        if (inWindow >= ws) {
          send(encodeAck(expected - 1));
          inWindow = 0;
        }
      } else {
        outOfOrder++;
        if (reackedFor !== expected) {
          // Gap or duplicate (RFC 7440 §4): acknowledge the last block received in order, once per position.
          reackedFor = expected;
          send(encodeAck(expected - 1));
          inWindow = 0;
        }
      }
      arm();
    }
    sock.on('message', onMessage);
    sock.on('error', (err) => finish(err));
    sock.bind(0, o.localAddress ?? '127.0.0.1', () => {
      sock.send(rrq, o.port, host);
      arm();
    });
  });
}

/** A raw UDP peer for protocol tests: send anything, await the next datagram (bounded). */
export async function rawPeer(): Promise<{
  sock: Socket;
  send: (buf: Buffer, port: number) => void;
  next: (ms?: number) => Promise<{ pkt: TftpPacket; rinfo: RemoteInfo } | undefined>;
  close: () => void;
}> {
  const sock = createSocket('udp4');
  const queue: { msg: Buffer; rinfo: RemoteInfo }[] = [];
  let waiter: (() => void) | undefined;
  sock.on('message', (msg, rinfo) => {
    queue.push({ msg, rinfo });
    waiter?.();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return {
    sock,
    send: (buf, port) => sock.send(buf, port, '127.0.0.1'),
    async next(ms = 2000) {
      if (queue.length === 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, ms);
          waiter = () => {
            clearTimeout(t);
            r();
          };
        });
        waiter = undefined;
      }
      const m = queue.shift();
      return m ? { pkt: decodePacket(m.msg), rinfo: m.rinfo } : undefined;
    },
    close: () => sock.close(),
  };
}
