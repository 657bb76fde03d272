/**
 * One TFTP read transfer as a socket-free state machine: `send` and the clock are injected.
 *
 * - Blocks are numbered absolutely inside (1, 2, … beyond 65535); the wire carries `n & 0xffff`, so block
 *   numbers roll over to 0 after 65535 (the convention of tftp-hpa, dnsmasq, curl and EDK2).
 * - A ring of `windowsize` + 1 DATA buffers, header prewritten, holds the blocks not yet acknowledged
 *   and the next block, read ahead while the client works (pump): retransmission resends those buffers
 *   as they are, no re-read. With the block source's bounded queue, memory per transfer is about
 *   (windowsize + 1) × blksize + one read buffer: none when blocks come straight from the page cache
 *   (`readCached`, positional-source.ts), a reused buffer of about one window for other positional
 *   reads, else the stream's chunks.
 * - One send path: every packet goes out through the TransferSocket (transfer-socket.ts). In lock-step,
 *   after prefilling, the transfer also asks the socket to send that block by itself when the ACK of the
 *   block on the wire arrives (`armReply`: native sockets can, the others say no); `ack(wire, true)` then
 *   accounts for it.
 * - RFC 7440 windows: send up to `windowsize` blocks past the last ACK, then wait. An ACK short of the last
 *   block sent means the client saw a gap (§4): resend from the block after it. To stay clear of the
 *   Sorcerer's Apprentice bug each ACK position triggers at most one such resend (duplicates of it are
 *   ignored), and in lock-step (windowsize 1) a duplicate ACK never causes a send: only the timer resends.
 *   A client that acknowledged windowsize but ACKs every block would get windows resent: RFC 7440 clients
 *   (atftp, EDK2, iPXE) ACK once per window.
 * - Timeout: resend everything outstanding, up to `retries` times in a row, then give up with ERROR 0.
 *   Consecutive timeouts back off exponentially (×2 each, at most 8 s; RFC 1123 §4.2.3.2), unless the
 *   client negotiated `timeout` (RFC 2349: used as is). Any progress resets it. Besides easing a congested
 *   link, the backoff lets a client's own timer fire: atftp (Debian's windowsize patch) answers a repeated
 *   window with one ACK and then ignores repeats; if that ACK is lost, only its 5 s timeout (which every
 *   received packet restarts) recovers, so the server has to fall silent for longer than that.
 * - ERROR 8 from the client answering an OACK that carried tsize is EDK2's size probe: outcome `probe`.
 * - The file is opened only after the OACK is acknowledged, so size probes never open a stream.
 */
import { openBlockFeed, type BlockFeed } from './block-feed.js';
import { PositionalBlockSource } from './positional-source.js';
import type { ChainSource } from './transfer-socket.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { encodeError, TftpErrorCode, writeDataHeader, type TftpPacket } from './codec.js';
import {
  MAX_BACKOFF_MS,
  type ReadTransferOptions,
  type TransferOutcome,
  type TransferStats,
} from './transfer-types.js';

export {
  MAX_BACKOFF_MS,
  type ReadTransferOptions,
  type TransferOutcome,
  type TransferStats,
} from './transfer-types.js';

type Phase = 'idle' | 'oack' | 'opening' | 'data' | 'finished';

export class ReadTransfer {
  #phase: Phase = 'idle';
  readonly #blksize: number;
  readonly #ws: number;
  readonly #timeoutMs: number;
  readonly #fixedTimeout: boolean;
  readonly #retries: number;
  readonly #clock: Clock;
  readonly #timer: TimerHandle;
  readonly #slots: Buffer[] = [];
  readonly #slotLen: number[] = [];
  #source: BlockFeed | undefined;
  #acked = 0; // highest block acknowledged (0 = OACK / start)
  #sent = 0; // highest block sent at least once
  #lastBlock: number | undefined; // known once the short block has been read
  #prefilled = 0; // a block read into its slot but not sent yet (0: none)
  #armed = false; // the socket holds the prefilled block as the reply to ACK `sent` (armReply)
  #rewoundAt = -1; // last ACK position answered with a resend: each position gets one at most
  #tries = 0;
  #waiting = false;
  #startedAt = 0;
  #bytes = 0;
  #retransmits = 0;

  readonly #o: ReadTransferOptions;
  constructor(o: ReadTransferOptions) {
    this.#o = o;
    this.#blksize = o.params.blksize;
    this.#ws = Math.max(1, o.params.windowsize);
    this.#timeoutMs = o.params.timeoutMs;
    this.#fixedTimeout = o.params.fixedTimeout ?? false;
    this.#retries = o.retries ?? 5;
    this.#clock = o.clock ?? realClock;
    this.#timer = this.#clock.timer(() => this.#guarded(() => this.#onTimeout()));
  }

  get finished(): boolean {
    return this.#phase === 'finished';
  }

  start(): void {
    if (this.#phase !== 'idle') return;
    this.#startedAt = this.#clock.now();
    if (this.#o.oack) {
      this.#phase = 'oack';
      this.#o.socket.send(this.#o.oack);
      this.#timer.arm(this.#wait());
    } else {
      this.#openAndRun();
    }
  }

  /** A packet from the client's transfer ID. */
  handle(p: TftpPacket): void {
    if (this.#phase === 'finished') return;
    if (p.op === 'error') {
      const clientError = { code: p.code, message: p.message };
      if (this.#phase === 'oack' && p.code === TftpErrorCode.OptionNegotiation && this.#o.tsizeAcked) {
        this.#finish('probe', 'client ended the tsize probe (error 8)', clientError);
      } else {
        this.#finish('client-error', `client sent error ${p.code}: ${p.message}`, clientError);
      }
      return;
    }
    if (p.op === 'ack') this.ack(p.block); // anything else on a read transfer is ignored
  }

  /**
   * An ACK from the client, by its 16-bit wire block number (the session's fast path calls this directly).
   * `replied`: the socket already sent the block armed for this ACK (armReply).
   */
  ack(wire: number, replied = false): void {
    if (this.#phase === 'data') {
      this.#onAck(wire, replied);
    } else if (this.#phase === 'oack' && wire === 0) {
      this.#tries = 0;
      this.#openAndRun();
    }
  }

  /**
   * The socket's chain answered `steps` lock-step ACKs by itself (armChain), each as ack(…, true) and a
   * prefill would have: the window, the byte count and the file position move on by that many blocks.
   */
  chained(steps: number): void {
    const src = this.#source;
    if (steps <= 0 || this.#phase !== 'data' || !(src instanceof PositionalBlockSource)) return;
    this.#acked += steps;
    this.#sent += steps;
    this.#prefilled += steps;
    this.#bytes += steps * this.#blksize;
    this.#slotLen[0] = this.#slotLen[1] = 4 + this.#blksize; // both slots hold full blocks now
    src.skip(steps * this.#blksize);
    this.#tries = 0;
    this.#timer.arm(this.#wait());
  }

  /** Server-side stop (shutdown, client unreachable): tells the client unless `notify` is false, frees everything. */
  abort(reason: string, notify = true): void {
    if (this.#phase === 'finished') return;
    if (notify) this.#o.socket.send(encodeError(TftpErrorCode.NotDefined, reason));
    this.#finish('aborted', reason);
  }

  #openAndRun(): void {
    this.#phase = 'opening';
    this.#timer.arm(this.#wait()); // bounds a source that never opens
    // Read ahead one window (at least 16 KiB): enough to send a window without waiting, no more.
    const highWater = Math.max(16 * 1024, this.#ws * this.#blksize);
    const ready = (feed: BlockFeed): void => {
      if (this.#phase !== 'opening') {
        feed.destroy();
        return;
      }
      this.#source = feed;
      this.#phase = 'data';
      this.#guarded(() => this.#pump());
    };
    openBlockFeed(this.#o, highWater).then(ready, (err: unknown) => this.readFailed(err));
  }

  /** Retransmission wait: the timeout, doubled per consecutive timeout (`tries`) up to MAX_BACKOFF_MS. */
  #wait(): number {
    if (this.#fixedTimeout || this.#tries === 0) return this.#timeoutMs;
    return Math.min(this.#timeoutMs * 2 ** this.#tries, Math.max(this.#timeoutMs, MAX_BACKOFF_MS));
  }

  /** Ring of windowsize + 1 slots: the extra one holds the prefilled next block (see pump). */
  #slotIndex(block: number): number {
    return block % (this.#ws + 1);
  }

  #slot(block: number): Buffer {
    const i = this.#slotIndex(block);
    let buf = this.#slots[i];
    if (buf === undefined) {
      buf = Buffer.allocUnsafe(4 + this.#blksize);
      this.#slots[i] = buf;
    }
    return buf;
  }

  /** Bytes of `block`'s DATA packet (header included), known once it was filled. */
  #packetLen(block: number): number {
    return this.#slotLen[this.#slotIndex(block)]!;
  }

  #transmit(block: number): void {
    const buf = this.#slot(block);
    const len = this.#packetLen(block);
    this.#o.socket.send(buf, len);
  }

  /** The prefilled `block` is on the wire: sent by transmit(), or by the socket's armed reply. */
  #markSent(block: number): void {
    this.#prefilled = 0;
    this.#sent = block;
    this.#bytes += this.#packetLen(block) - 4;
  }

  /**
   * Reads and sends new blocks while the window has room and data is at hand. When the window is full it
   * prefills the next block into the spare slot, so the read (a page-cache copy) happens while the client
   * is busy with what was just sent, and the next ACK is answered with a send alone.
   */
  #pump(): void {
    const src = this.#source;
    if (this.#phase !== 'data' || src === undefined) return;
    let sentSome = false;
    while (this.#sent < this.#acked + this.#ws && (this.#lastBlock === undefined || this.#sent < this.#lastBlock)) {
      const block = this.#sent + 1;
      if (this.#prefilled !== block && !this.#prefill(src, block)) break;
      this.#markSent(block);
      this.#transmit(block);
      sentSome = true;
    }
    if (this.#phase !== 'data') return; // a read failed: finished
    if (sentSome) this.#tries = 0;
    const next = this.#sent + 1;
    if (
      this.#prefilled !== next &&
      this.#sent === this.#acked + this.#ws &&
      (this.#lastBlock === undefined || this.#sent < this.#lastBlock)
    ) {
      this.#prefill(src, next);
      if (this.#phase !== 'data') return;
    }
    // Lock-step: the ACK of what is on the wire releases the prefilled block, so the socket may send it
    // by itself the moment that ACK arrives (no JS on the round trip).
    if (this.#ws === 1 && !this.#armed && this.#prefilled === next && this.#sent > this.#acked) {
      const { socket } = this.#o;
      const chain = this.#chainSource(src, next);
      const [wire, packet, len] = [this.#sent & 0xffff, this.#slot(next), this.#packetLen(next)];
      this.#armed =
        (chain !== undefined && socket.armChain(wire, packet, len, chain)) || socket.armReply(wire, packet, len);
    }
    // Nothing outstanding but the source is slow: the timer then watches for a stalled source.
    if (sentSome || this.#sent === this.#acked) this.#timer.arm(this.#wait());
  }

  /** What the socket's chain needs to go on from the prefilled full block `next`, if it can (armChain). */
  #chainSource(src: BlockFeed, next: number): ChainSource | undefined {
    if (!(src instanceof PositionalBlockSource) || this.#o.size === undefined) return undefined;
    if (this.#packetLen(next) !== 4 + this.#blksize) return undefined;
    const fd = src.chainFd(next * this.#blksize);
    if (fd === undefined) return undefined;
    const slots = [this.#slot(0), this.#slot(1)] as const; // slot of block b: b % 2 in lock-step
    return { fd, slots, block: next, blksize: this.#blksize, size: this.#o.size };
  }

  /** Fills `block`'s slot (header and data); false when the source has to be waited for (pump runs again). */
  #prefill(src: BlockFeed, block: number): boolean {
    const buf = this.#slot(block);
    const n = src.fill(buf, 4, this.#blksize);
    if (src.error) {
      this.readFailed(src.error);
      return false;
    }
    if (n === undefined) {
      if (!this.#waiting) {
        this.#waiting = true;
        src.onReady(() => {
          this.#waiting = false;
          this.#guarded(() => this.#pump());
        });
      }
      return false;
    }
    writeDataHeader(buf, block);
    this.#slotLen[this.#slotIndex(block)] = 4 + n;
    if (n < this.#blksize) this.#lastBlock = block; // short (possibly empty) block ends the file
    this.#prefilled = block;
    return true;
  }

  #onAck(wire: number, replied = false): void {
    // Map the 16-bit number onto [acked, acked + 65535]; anything past what was sent is stray.
    const block = this.#acked + ((wire - (this.#acked & 0xffff)) & 0xffff);
    if (block > this.#sent) return;
    this.#armed = false; // one-shot: fired with this datagram, or the socket dropped it
    if (block > this.#acked) {
      this.#acked = block;
      this.#tries = 0;
      if (this.#lastBlock !== undefined && block === this.#lastBlock) {
        this.#finish('done');
        return;
      }
      // No cancel here: pump() below re-arms the timer, which only moves a deadline (clock.ts).
    }
    if (replied && block === this.#sent && this.#prefilled === block + 1) {
      this.#markSent(block + 1); // the socket sent it as this ACK arrived
      this.#timer.arm(this.#wait());
    }
    // An ACK short of what was sent means a gap (RFC 7440 §4). Lock-step never resends on it.
    if (this.#ws > 1 && block < this.#sent && block > this.#rewoundAt) {
      this.#rewoundAt = block;
      this.#resend(block + 1);
    }
    this.#pump();
  }

  #resend(from: number): void {
    for (let b = from; b <= this.#sent; b++) {
      this.#transmit(b);
      this.#retransmits++;
    }
    this.#timer.arm(this.#wait());
  }

  #onTimeout(): void {
    const steps = this.#o.socket.chainSteps();
    if (steps > 0 && this.#phase === 'data') return this.chained(steps); // progress the timer did not see
    if (this.#phase === 'oack') {
      if (++this.#tries > this.#retries) return this.#giveUp();
      this.#o.socket.send(this.#o.oack!);
      this.#retransmits++;
      this.#timer.arm(this.#wait());
      return;
    }
    if (this.#phase === 'opening' || (this.#phase === 'data' && this.#sent === this.#acked)) {
      if (++this.#tries > this.#retries) return this.readFailed(new Error('file source stalled'));
      this.#timer.arm(this.#wait());
      return;
    }
    if (this.#phase !== 'data') return;
    if (++this.#tries > this.#retries) return this.#giveUp();
    this.#rewoundAt = this.#acked;
    this.#resend(this.#acked + 1);
  }

  #giveUp(): void {
    this.#o.socket.send(encodeError(TftpErrorCode.NotDefined, 'timeout'));
    this.#finish('timeout', `no ACK after ${this.#retries} retransmissions`);
  }

  /** Callbacks from timers and streams: a bug must end this transfer, not the process. */
  #guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.readFailed(err);
    }
  }

  /** The file could not be read (here, or by the socket's chain): ERROR 0 to the client, outcome read-error. */
  readFailed(err: unknown): void {
    if (this.#phase === 'finished') return;
    this.#o.socket.send(encodeError(TftpErrorCode.NotDefined, 'read error'));
    this.#finish('read-error', err instanceof Error ? err.message : String(err));
  }

  #finish(outcome: TransferOutcome, reason?: string, clientError?: TransferStats['clientError']): void {
    if (this.#phase === 'finished') return;
    this.#phase = 'finished';
    this.#timer.cancel();
    if (this.#armed) this.#o.socket.disarm();
    this.#armed = false;
    this.#source?.destroy();
    this.#source = undefined;
    this.#slots.length = 0;
    const stats: TransferStats = {
      outcome,
      bytes: this.#bytes,
      blocks: this.#sent,
      retransmits: this.#retransmits,
      durationMs: this.#clock.now() - this.#startedAt,
      blksize: this.#blksize,
      windowsize: this.#ws,
    };
    if (reason !== undefined) stats.reason = reason;
    if (clientError !== undefined) stats.clientError = clientError;
    this.#o.onFinish(stats);
  }
}
