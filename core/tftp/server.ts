/**
 * TftpServer: the UDP side. One listening socket; each transfer gets its own ephemeral, connected socket
 * (RFC 1350 §4 transfer IDs), or in `singlePort` mode shares the listening port, keyed by client address:port
 * (for NAT and containers, like dnsmasq `--tftp-single-port`). Read-only: write requests are refused.
 * Malformed packets are answered with ERROR 4 (never to an ERROR packet) and never crash the server.
 */
import type { Logger } from 'pino';
import {
  decodePacket,
  encodeError,
  OP_ERROR,
  TftpDecodeError,
  TftpErrorCode,
  type RequestPacket,
  type TftpPacket,
} from './codec.js';
import { bindListener, repliesFromRequestAddress, warnIfAmbiguous, type TftpListener } from './listener.js';
import { mtuBlksizeFor } from './mtu.js';
import { planRead, type PlanContext } from './request.js';
import { Session, type SessionHost, type SessionLink } from './session.js';
import {
  chooseTransferSockets,
  sendOnlySocket,
  type TransferSocket,
  type TransferSocketEvents,
  type TransferSockets,
} from './transfer-socket.js';
import { TFTP_TUNABLE_OPTIONS, type TftpTunableOption } from './types.js';
import type { TftpCallbacks, TftpClient, TftpEvent, TftpServerOptions } from './types.js';
import { LogLimiter } from '../util/log-limit.js';
import { raceTimer } from '../util/race-timer.js';
import { nativeListen } from '../native/listen-socket.js';
import { replyBatching } from '../native/udp-socket.js';

type Resolved = Required<Omit<TftpServerOptions, 'log' | 'mtuBlksize' | 'address' | 'address6' | 'limitedLog'>> & {
  address: string;
  address6: string | undefined;
  mtuBlksize: ((a: string) => number | undefined) | undefined;
};

/**
 * Positional read-ahead shared by the running transfers: one transfer reads 256 KiB at a time (fewer
 * thread-pool round trips per block), hundreds fall back to 32 KiB each, so memory stays bounded.
 */
export const READ_AHEAD_BUDGET = 8 * 1024 * 1024;

export class TftpServer implements SessionHost {
  readonly opts: Resolved;
  readonly log: Logger;
  /** Per-request failures a flood can repeat (no socket, a failing plan): one line per kind a second. */
  readonly limitedLog: LogLimiter;
  /** The listening sockets: `address`, then `address6` when set (same port). */
  #listeners: TftpListener[] = [];
  readonly #sessions = new Map<string, Session>();
  readonly #perClient = new Map<string, number>();
  readonly #idleWaiters: (() => void)[] = [];
  /** `settled()` callers: the sessions each still waits for. */
  readonly #settleWaiters: { pending: Set<Session>; done: () => void }[] = [];
  #callbacks: TftpCallbacks;
  #closing: Promise<void> | undefined;
  #seq = 0;
  readonly #planBase: Omit<PlanContext, 'callbacks' | 'defaultTimeoutMs'>;
  #plan: PlanContext | undefined;
  /** The kind of transfer socket, chosen once here (transfer-socket.ts). */
  readonly #sockets: TransferSockets;

  constructor(options: TftpServerOptions, callbacks: TftpCallbacks) {
    this.#callbacks = callbacks;
    this.log = options.log;
    this.limitedLog = options.limitedLog ?? new LogLimiter();
    this.opts = {
      port: options.port ?? 69,
      address: options.address ?? '0.0.0.0',
      address6: options.address6,
      maxBlksize: options.maxBlksize ?? 1468,
      windowsizeCap: options.windowsizeCap ?? 64,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 1000,
      retries: options.retries ?? 5,
      maxTransfers: options.maxTransfers ?? 1000,
      maxPerClient: options.maxPerClient ?? 16,
      singlePort: options.singlePort ?? false,
      transport: options.transport ?? 'auto',
      allowWrite: options.allowWrite ?? false,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      closeGraceMs: options.closeGraceMs ?? 5000,
      mtuBlksize: options.mtuBlksize === false ? undefined : (options.mtuBlksize ?? mtuBlksizeFor),
    };
    this.#sockets = chooseTransferSockets(this.opts.transport, this.opts.singlePort);
    this.#planBase = {
      emitRequest: (req) => this.emit({ type: 'tftp.request', req }),
      limits: (client) => ({
        maxBlksize: this.opts.maxBlksize,
        windowsizeCap: this.opts.windowsizeCap,
        mtuBlksize: this.opts.mtuBlksize?.(client.address),
      }),
    };
  }

  /** Policy, files and events for new requests. */
  get callbacks(): TftpCallbacks {
    return this.#callbacks;
  }

  /**
   * Routes requests that arrive from now on to `callbacks` (a config reload). Transfers already running
   * keep the callbacks they started with, for their events too; `settled()` says when they are over.
   */
  useCallbacks(callbacks: TftpCallbacks): void {
    this.#callbacks = callbacks;
  }

  /** Changes the limits new requests are planned with (running transfers keep theirs). */
  retune(limits: Partial<Pick<Resolved, TftpTunableOption>>): void {
    for (const key of TFTP_TUNABLE_OPTIONS) {
      const v = limits[key];
      if (v !== undefined) this.opts[key] = v;
    }
  }

  /** Settles once every session running now (sockets, not inject) has ended; later ones are not waited for. */
  settled(): Promise<void> {
    if (this.#sessions.size === 0) return Promise.resolve();
    return new Promise((done) => this.#settleWaiters.push({ pending: new Set(this.#sessions.values()), done }));
  }

  /**
   * Binds the listening socket on `address`, then the IPv6 one on `address6` (same port, also when
   * `port` is 0). Resolves with the first; `bound` lists all. Rejects with a message naming the address,
   * the port and the likely cause; nothing stays bound then.
   */
  async listen(): Promise<{ address: string; port: number }> {
    if (this.#listeners.length > 0) throw new Error('TFTP server already listening');
    if (this.opts.transport === 'native' && this.#sockets.transport !== 'native') {
      const why = this.opts.singlePort
        ? 'singlePort mode sends from the listening socket'
        : this.#sockets.nativeUnavailable;
      const fix = this.opts.singlePort
        ? 'set tftp.transport to "auto" (single-port mode runs on node:dgram)'
        : 'install a C compiler (Debian: build-essential) and run `npm rebuild` in the pxekit folder, or set tftp.transport to "auto"';
      throw new Error(`tftp.transport is "native" but native transfer sockets are unavailable: ${why}. Fix: ${fix}.`);
    }
    const first = await this.#bind(this.opts.address, this.opts.port, false);
    this.#listeners.push(first);
    if (this.opts.address6 !== undefined) {
      try {
        this.#listeners.push(await this.#bind(this.opts.address6, first.port, true));
      } catch (err) {
        this.#closeMain();
        throw err;
      }
    }
    const bound = this.bound;
    this.log.info(
      {
        address: bound[0]!.address,
        port: bound[0]!.port,
        ...(bound[1] ? { address6: bound[1].address } : {}),
        singlePort: this.opts.singlePort,
        transport: this.#sockets.transport,
        nativeUnavailable: this.#sockets.nativeUnavailable,
        repliesFrom: first.knowsDestination ? 'request address' : 'kernel choice',
        ...(this.#sockets.transport === 'native' ? { replyBatch: replyBatching() } : {}),
      },
      'tftp: listening',
    );
    const why =
      this.#sockets.transport === 'single-port'
        ? 'single-port mode answers from the listening socket'
        : (this.#sockets.nativeUnavailable ?? nativeListen().reason ?? `tftp.transport ${this.#sockets.transport}`);
    for (const l of this.#listeners) warnIfAmbiguous(l, this.log, why);
    return bound[0]!;
  }

  /**
   * Whether requests come with their destination address, so that every reply leaves from the address the
   * client sent to (the native listening socket; not in single-port mode or on the dgram transport).
   */
  get repliesFromRequestAddress(): boolean {
    return this.#listeners[0]?.knowsDestination ?? this.#nativeListener();
  }

  #nativeListener(): boolean {
    return repliesFromRequestAddress(this.opts.transport, this.opts.singlePort);
  }

  /** Every listening socket's address and port (empty before `listen`). */
  get bound(): { address: string; port: number }[] {
    return this.#listeners.map((l) => ({ address: l.address, port: l.port }));
  }

  /** `ipv6Only` for the socket beside an IPv4 one, so `::` there does not take IPv4 clients too. */
  #bind(address: string, port: number, ipv6Only: boolean): Promise<TftpListener> {
    return bindListener({
      address,
      port,
      ipv6Only,
      native: this.#nativeListener(),
      log: this.log,
      onMessage: (msg, client, local) => this.#onMainMessage(msg, client, local),
    });
  }

  /**
   * The listener a client's packets belong to: the IPv6 one for an IPv6 client when there is one (a
   * client address is IPv4 on a udp4 socket, IPv6 or IPv4-mapped on a udp6 one), else the first.
   */
  #listenerFor(client: TftpClient): TftpListener | undefined {
    const ls = this.#listeners;
    if (ls.length < 2) return ls[0];
    return (client.address.includes(':') ? ls.find((l) => l.type === 'udp6') : undefined) ?? ls[0];
  }

  /**
   * Where a transfer socket for `client` binds: the address its request was sent to when the listener
   * knows it (`local`), else the address of the socket its request came in on.
   */
  localFor(client: TftpClient, local?: string): string {
    if (local !== undefined) return local;
    const l = this.#listenerFor(client);
    if (l) return l.address;
    return client.address.includes(':') ? (this.opts.address6 ?? '::') : this.opts.address;
  }

  /** The bound port (after `listen`). */
  get port(): number {
    return this.#listeners[0]?.port ?? 0;
  }

  get activeTransfers(): number {
    return this.#sessions.size;
  }

  /** Stops accepting, lets transfers finish for `graceMs` (default `closeGraceMs`), then aborts the rest and frees everything. */
  close(graceMs = this.opts.closeGraceMs): Promise<void> {
    this.#closing ??= this.#doClose(graceMs);
    return this.#closing;
  }

  async #doClose(graceMs: number): Promise<void> {
    if (!this.opts.singlePort) this.#closeMain();
    if (this.#sessions.size > 0) {
      await raceTimer(new Promise<void>((r) => this.#idleWaiters.push(r)), graceMs, () => undefined);
    }
    for (const s of [...this.#sessions.values()]) s.abort('server shutting down');
    // Let the abort ERRORs leave the shared socket (unconnected sends complete on a later tick).
    await new Promise((r) => setImmediate(r));
    this.#closeMain();
    this.limitedLog.flush();
  }

  #closeMain(): void {
    for (const l of this.#listeners.splice(0)) l.close();
  }

  readAheadBytes(): number {
    return Math.floor(READ_AHEAD_BUDGET / Math.max(1, this.#sessions.size));
  }

  get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  /** `local`: the address the datagram was sent to, when the listener knows it (replies leave from it). */
  #onMainMessage(msg: Buffer, client: TftpClient, local: string | undefined): void {
    const key = `${client.address}:${client.port}`;
    let pkt: TftpPacket;
    try {
      pkt = decodePacket(msg);
    } catch (err) {
      const reason = err instanceof TftpDecodeError ? err.reason : String(err);
      this.log.debug({ client, reason, len: msg.length }, 'tftp: malformed packet');
      const isError = msg.length >= 2 && msg.readUInt16BE(0) === OP_ERROR;
      if (!isError) this.sendError(client, TftpErrorCode.IllegalOperation, `illegal operation: ${reason}`, local);
      this.emit({ type: 'tftp.error', client, code: TftpErrorCode.IllegalOperation, reason: `malformed: ${reason}` });
      return;
    }
    const existing = this.#sessions.get(key);
    if (existing) {
      // Single-port: the session's traffic. Ephemeral mode: a retransmitted RRQ, already being served.
      if (this.opts.singlePort) existing.handle(pkt);
      return;
    }
    if (pkt.op === 'rrq') return this.#accept(pkt, client, key, local);
    if (pkt.op === 'wrq') {
      const code = this.opts.allowWrite ? TftpErrorCode.IllegalOperation : TftpErrorCode.AccessViolation;
      const reason = this.opts.allowWrite ? 'write requests are not supported' : 'read-only server';
      this.sendError(client, code, reason, local);
      this.emit({ type: 'tftp.denied', client, path: pkt.filename, code, reason });
      return;
    }
    // Stray DATA/ACK/ERROR/OACK for no transfer (late packets of a finished one): RFC 1350 says ERROR 5,
    // but answering late ACKs only adds noise; drop.
    this.log.debug({ client, op: pkt.op }, 'tftp: packet for no transfer dropped');
  }

  #accept(pkt: RequestPacket, client: TftpClient, key: string, local: string | undefined): void {
    if (this.#closing) {
      this.sendError(client, TftpErrorCode.NotDefined, 'server shutting down', local);
      return;
    }
    const fromClient = this.#perClient.get(client.address) ?? 0;
    const busy =
      this.#sessions.size >= this.opts.maxTransfers
        ? `server busy: ${this.#sessions.size} transfers`
        : fromClient >= this.opts.maxPerClient
          ? `server busy: ${fromClient} transfers from this client`
          : undefined;
    if (busy) {
      this.sendError(client, TftpErrorCode.NotDefined, busy, local);
      this.emit({ type: 'tftp.error', client, path: pkt.filename, code: TftpErrorCode.NotDefined, reason: busy });
      return;
    }
    const session = new Session(this, key, client, `t${(++this.#seq).toString(36)}`, undefined, local);
    this.#sessions.set(key, session);
    this.#perClient.set(client.address, fromClient + 1);
    session.run(pkt, this.#planContext(), planRead).catch((err: unknown) => {
      this.limitedLog.error(this.log, { event: 'tftp.session.error', err, client }, 'tftp: session failed');
      session.abort('internal server error');
      this.release(session);
    });
  }

  /**
   * Runs one read request over `link` instead of UDP (inject): the same plan, transfer state machine and
   * events as a socket session; not counted against the transfer limits. Resolves when it is over.
   */
  async runLinked(pkt: RequestPacket, client: TftpClient, link: SessionLink): Promise<void> {
    const session = new Session(this, `link:${++this.#seq}`, client, `i${this.#seq.toString(36)}`, link);
    await session.run(pkt, this.#planContext(), planRead).catch((err: unknown) => {
      this.limitedLog.error(this.log, { event: 'tftp.session.error', err, client }, 'tftp: linked session failed');
      session.abort('internal server error');
      link.error(TftpErrorCode.NotDefined, 'internal server error');
      link.closed();
    });
  }

  // ---- SessionHost: what a session needs from the server ----

  /**
   * The transfer's own connected socket, bound to `local` (the address the request was sent to) when known,
   * else to its listener's address; or the listening one in single-port mode.
   */
  openTransferSocket(client: TftpClient, events: TransferSocketEvents, local?: string): Promise<TransferSocket> {
    const open = this.#sockets.open;
    if (!open) return Promise.resolve(sendOnlySocket((buf) => this.sendMain(buf, client, local)));
    return open(this.localFor(client, local), client, events);
  }

  /** How transfers send: `native`, `dgram` or `single-port` (for logs and tests). */
  get transport(): TransferSockets['transport'] {
    return this.#sockets.transport;
  }

  /**
   * Sends from the client's listening socket (early errors; all traffic in single-port mode), from `local`
   * (the address the client's request went to) when the listener knows it.
   */
  sendMain(buf: Buffer, client: TftpClient, local?: string): void {
    this.#listenerFor(client)?.send(buf, client, local);
  }

  sendError(client: TftpClient, code: number, message: string, local?: string): void {
    this.sendMain(encodeError(code, message), client, local);
  }

  /** The same object while the callbacks and the default timeout stay (a reload or retune makes a new one). */
  #planContext(): PlanContext {
    const c = this.#plan;
    if (c !== undefined && c.callbacks === this.#callbacks && c.defaultTimeoutMs === this.opts.defaultTimeoutMs)
      return c;
    this.#plan = { ...this.#planBase, callbacks: this.#callbacks, defaultTimeoutMs: this.opts.defaultTimeoutMs };
    return this.#plan;
  }

  release(session: Session): void {
    if (this.#sessions.get(session.key) !== session) return;
    this.#sessions.delete(session.key);
    const n = (this.#perClient.get(session.client.address) ?? 1) - 1;
    if (n <= 0) this.#perClient.delete(session.client.address);
    else this.#perClient.set(session.client.address, n);
    if (this.#sessions.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
    for (let i = this.#settleWaiters.length - 1; i >= 0; i--) {
      const w = this.#settleWaiters[i]!;
      w.pending.delete(session);
      if (w.pending.size > 0) continue;
      this.#settleWaiters.splice(i, 1);
      w.done();
    }
  }

  emit(ev: TftpEvent, callbacks: TftpCallbacks = this.#callbacks): void {
    if (!callbacks.event) return;
    try {
      callbacks.event(ev);
    } catch (err) {
      this.log.error({ err, type: ev.type }, 'tftp: event callback threw');
    }
  }
}
