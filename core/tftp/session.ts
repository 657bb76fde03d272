/**
 * One client request from RRQ to the end of its transfer: runs the plan (hooks, resolve, negotiation),
 * gets the transfer's socket from the server (its own connected one, or the shared one in single-port
 * mode; transfer-socket.ts), drives a ReadTransfer, and reports the outcome as a boot event. Always
 * releases its slot, whatever happens.
 */
import type { Logger } from 'pino';
import { ackBlockOf, decodePacket, TftpErrorCode, type RequestPacket, type TftpPacket } from './codec.js';
import { TftpRefusal } from './refusal.js';
import type { Plan, PlanContext, TransferPlan } from './request.js';
import { ReadTransfer, type TransferStats } from './transfer.js';
import type { TransferSocket, TransferSocketEvents } from './transfer-socket.js';
import type { TftpCallbacks, TftpClient, TftpEvent, TftpRequest } from './types.js';
import type { LogLimiter } from '../util/log-limit.js';
import { raceTimer } from '../util/race-timer.js';

export interface SessionHost {
  readonly opts: {
    retries: number;
    requestTimeoutMs: number;
  };
  /**
   * The transfer's socket to `client`, of the kind the server chose when it was made, bound to `local` (the
   * address the request was sent to) when known.
   */
  openTransferSocket(client: TftpClient, events: TransferSocketEvents, local?: string): Promise<TransferSocket>;
  /** Read-ahead for a transfer starting now (the server shares one budget among running transfers). */
  readAheadBytes(): number;
  readonly log: Logger;
  /** Rate limit for the per-request failure lines below (a flood must not become a line per packet). */
  readonly limitedLog: LogLimiter;
  readonly isClosing: boolean;
  /** An ERROR from the listening port, from `local` when known. */
  sendError(client: TftpClient, code: number, message: string, local?: string): void;
  release(session: Session): void;
  /** Reports an event to `callbacks` (the ones the session started with), default the server's current ones. */
  emit(ev: TftpEvent, callbacks?: TftpCallbacks): void;
}

/**
 * Where a session's packets go when it is not a UDP session (inject: an in-memory client). The UDP path
 * (listening socket for early errors, an ephemeral or the shared socket for the transfer) is the default.
 */
export interface SessionLink {
  /** An ERROR sent before any transfer exists (refusals). */
  error(code: number, message: string): void;
  /** The transfer's socket; throw a TftpRefusal to refuse the plan (e.g. too large). */
  connect(plan: TransferPlan, session: Session): Promise<TransferSocket>;
  /** The session is over (always called once). */
  closed(): void;
}

type Planner = (pkt: RequestPacket, client: TftpClient, id: string, ctx: PlanContext) => Promise<Plan>;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return raceTimer(p, ms, (): never => {
    throw new Error(`request callbacks took over ${ms} ms`);
  });
}

export class Session {
  #transfer: ReadTransfer | undefined;
  #socket: TransferSocket | undefined;
  #aborted: string | undefined;
  /** The callbacks this session's plan ran with: its events go to them too, even after the server swapped them. */
  #callbacks: TftpCallbacks | undefined;

  readonly #host: SessionHost;
  readonly #link: SessionLink | undefined;
  constructor(
    host: SessionHost,
    readonly key: string,
    readonly client: TftpClient,
    readonly transferId: string,
    link?: SessionLink,
    /** The local address the request was sent to, when the listener knows it: every reply leaves from it. */
    readonly local?: string,
  ) {
    this.#host = host;
    this.#link = link;
  }

  #sendError(code: number, message: string): void {
    if (this.#link) this.#link.error(code, message);
    else this.#host.sendError(this.client, code, message, this.local);
  }

  async run(pkt: RequestPacket, ctx: PlanContext, planner: Planner): Promise<void> {
    const host = this.#host;
    const { client } = this;
    this.#callbacks = ctx.callbacks;
    let plan: Plan;
    try {
      plan = await withTimeout(planner(pkt, client, this.transferId, ctx), host.opts.requestTimeoutMs);
    } catch (err) {
      host.limitedLog.warn(
        host.log,
        { event: 'tftp.request.error', err, client, path: pkt.filename },
        'tftp: request failed',
      );
      this.#sendError(TftpErrorCode.NotDefined, 'internal server error');
      this.#host.emit(
        {
          type: 'tftp.error',
          client,
          path: pkt.filename,
          code: 0,
          reason: err instanceof Error ? err.message : String(err),
        },
        this.#callbacks,
      );
      return this.#done();
    }
    if (plan.kind === 'refuse') return this.#refused(plan, pkt.filename);
    if (this.#aborted !== undefined || (host.isClosing && !this.#link)) {
      this.#sendError(TftpErrorCode.NotDefined, 'server shutting down');
      return this.#done();
    }
    if (this.#link) {
      try {
        this.#socket = await this.#link.connect(plan, this);
      } catch (err) {
        if (!(err instanceof TftpRefusal)) throw err;
        return this.#refused(
          { kind: 'refuse', req: plan.req, code: err.code, message: err.message, as: 'error', reason: err.reason },
          pkt.filename,
        );
      }
    } else {
      try {
        this.#socket = await host.openTransferSocket(
          client,
          {
            onPacket: (buf, len, replied, steps) => {
              if (steps > 0) this.#transfer?.chained(steps);
              this.#onDatagram(buf, len, replied);
            },
            onError: (err) => this.#onSocketError(err),
            onReadError: (err) => this.#transfer?.readFailed(err),
          },
          this.local,
        );
      } catch (err) {
        host.limitedLog.warn(
          host.log,
          { event: 'tftp.socket.error', err, client },
          'tftp: cannot open transfer socket',
        );
        this.#sendError(TftpErrorCode.NotDefined, 'server error');
        return this.#done();
      }
      if (this.#aborted !== undefined) return this.#done();
    }
    this.#start(plan, this.#socket);
  }

  #refused(plan: Extract<Plan, { kind: 'refuse' }>, path: string): void {
    const host = this.#host;
    const { client } = this;
    this.#sendError(plan.code, plan.message);
    const reason = plan.reason ?? plan.message;
    host.log.debug({ client, path, code: plan.code, reason }, 'tftp: refused');
    if (plan.as === 'denied')
      this.#host.emit({ type: 'tftp.denied', req: plan.req, client, path, code: plan.code, reason }, this.#callbacks);
    else this.#host.emit({ type: 'tftp.error', req: plan.req, client, path, code: plan.code, reason }, this.#callbacks);
    this.#done();
  }

  #start(plan: TransferPlan, socket: TransferSocket): void {
    const { req, handle, acked, params, oack } = plan;
    this.#transfer = new ReadTransfer({
      open: () => handle.open(),
      openReader: handle.openReader ? () => handle.openReader!() : undefined,
      size: handle.size,
      readAheadBytes: this.#host.readAheadBytes(),
      params,
      netascii: req.mode === 'netascii',
      oack,
      tsizeAcked: acked.tsize !== undefined,
      retries: this.#host.opts.retries,
      socket,
      onFinish: (stats) => this.#finished(req, stats, acked.tsize),
    });
    if (oack) this.#host.emit({ type: 'tftp.oack', req, options: plan.oackOptions }, this.#callbacks);
    const { log } = this.#host;
    if (log.isLevelEnabled('debug'))
      log.debug({ transferId: req.transferId, path: req.normalizedPath, ...params }, 'tftp: transfer start');
    this.#transfer.start();
  }

  /** A packet from this client: from its own socket, or routed by the listener in single-port mode. */
  handle(pkt: TftpPacket): void {
    try {
      this.#transfer?.handle(pkt);
    } catch (err) {
      this.#failed(err);
    }
  }

  #failed(err: unknown): void {
    const host = this.#host;
    host.limitedLog.error(
      host.log,
      { event: 'tftp.transfer.error', err, client: this.client },
      'tftp: transfer failed on a packet',
    );
    this.abort('internal server error');
  }

  abort(reason: string, notify = true): void {
    this.#aborted ??= reason;
    if (this.#transfer) this.#transfer.abort(reason, notify);
  }

  /**
   * A datagram on this transfer's own socket (`len` > buf.length: truncated by the native receive
   * buffer). ACKs, nearly every packet of a transfer, skip the generic decoder; garbage is ignored:
   * the transfer's timer covers real loss.
   */
  #onDatagram(buf: Buffer, len: number, replied = false): void {
    const block = ackBlockOf(buf, len);
    if (block >= 0) {
      try {
        this.#transfer?.ack(block, replied);
      } catch (err) {
        this.#failed(err);
      }
      return;
    }
    if (len > buf.length) return;
    let pkt: TftpPacket;
    try {
      pkt = decodePacket(len === buf.length ? buf : buf.subarray(0, len));
    } catch {
      return;
    }
    this.handle(pkt);
  }

  #onSocketError(err: NodeJS.ErrnoException): void {
    // ECONNREFUSED on a connected socket = ICMP port unreachable: the client is gone, stop now.
    this.#host.log.debug({ err, client: this.client }, 'tftp: transfer socket error');
    this.abort(`client unreachable (${err.code ?? err.message})`, false);
  }

  #finished(req: TftpRequest, s: TransferStats, tsize: number | undefined): void {
    const host = this.#host;
    // The debug lines' objects are built only when debug is on (a transfer ends twice per EDK2 boot).
    const debug = host.log.isLevelEnabled('debug');
    if (s.outcome === 'done') {
      const { bytes, durationMs, blocks, retransmits, blksize, windowsize } = s;
      if (debug)
        host.log.debug(
          {
            transferId: req.transferId,
            client: this.client,
            path: req.normalizedPath,
            bytes,
            durationMs: Math.round(durationMs),
            blksize,
            windowsize,
            retransmits,
          },
          'tftp: sent',
        );
      this.#host.emit(
        { type: 'tftp.done', req, bytes, durationMs, blocks, retransmits, blksize, windowsize },
        this.#callbacks,
      );
    } else if (s.outcome === 'probe') {
      if (debug)
        host.log.debug(
          { transferId: req.transferId, client: this.client, path: req.normalizedPath, tsize },
          'tftp: size probe',
        );
      this.#host.emit({ type: 'tftp.probe', req, tsize, durationMs: s.durationMs }, this.#callbacks);
    } else {
      host.log.debug(
        {
          transferId: req.transferId,
          client: this.client,
          path: req.normalizedPath,
          outcome: s.outcome,
          reason: s.reason,
          bytes: s.bytes,
        },
        'tftp: transfer ended early',
      );
      const ev: TftpEvent = {
        type: 'tftp.error',
        req,
        client: this.client,
        reason: s.reason ?? s.outcome,
        outcome: s.outcome,
        bytes: s.bytes,
        durationMs: s.durationMs,
        retransmits: s.retransmits,
      };
      if (s.clientError) ev.code = s.clientError.code;
      this.#host.emit(ev, this.#callbacks);
    }
    this.#done();
  }

  #done(): void {
    this.#socket?.close();
    this.#socket = undefined;
    this.#host.release(this);
    this.#link?.closed();
  }
}
