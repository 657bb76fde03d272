/**
 * The DHCP sockets. Per port (67, and 4011 in proxy mode): one socket on 0.0.0.0, because on Linux
 * only a wildcard-bound socket receives broadcasts (clients without an address broadcast), plus one
 * socket per served address on the same port (SO_REUSEADDR). The kernel delivers unicast to the most
 * specific socket, so a packet on an address socket tells us exactly which address it was for, and a
 * broadcast reply sent from an address socket leaves through that address's interface even without a
 * default route (Linux picks the device from the bound source address). Node's dgram has no
 * IP_PKTINFO; see interfaces.ts and docs/dhcp.md for what is inferred and its limits.
 */
import type { Logger } from 'pino';
import { listenError } from '../errors.js';
import type { ListeningAddress } from '../hooks/server.js';
import type { LocalAddress } from './interfaces.js';
import type { Incoming, Prepared } from './pipeline.js';
import { ReplyQueue } from './reply-queue.js';
import {
  bindDhcpSocket,
  DHCP_MAX_QUEUE_AGE_MS,
  dhcpTransport,
  type DhcpSocket,
  type DhcpTransport,
} from './sockets.js';
import { raceTimer } from '../util/race-timer.js';
import { LogLimiter, type LimitClock } from '../util/log-limit.js';

export interface ListenerOptions {
  port: number;
  /** Boot-server port; undefined = no boot server (full mode). */
  pxePort: number | undefined;
  /** Addresses to bind an extra socket on (the served ones). */
  addresses: readonly LocalAddress[];
  log: Logger;
  onPacket: (inc: Incoming) => Promise<Prepared | undefined>;
  /** Clock of the per-packet warnings' rate limit (tests). */
  logClock?: LimitClock;
}

type Kind = Incoming['kind'];

interface Group {
  kind: Kind;
  port: number;
  wildcard: DhcpSocket | undefined;
  byAddress: Map<string, { socket: DhcpSocket; iface: string }>;
}

export class DhcpListener {
  readonly #o: ListenerOptions;
  readonly #groups = new Map<Kind, Group>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** One bounded reply queue per socket (reply-queue.ts: a flood cannot build a backlog of replies). */
  readonly #queues = new WeakMap<DhcpSocket, ReplyQueue>();
  /** node:dgram or the addon's batched sockets (sockets.ts), chosen once. */
  readonly transport: DhcpTransport = dhcpTransport();
  /** Warnings a flood repeats per packet (socket errors, failed sends, dropped replies): one a second per kind. */
  readonly #limited: LogLimiter;
  #dropped = 0;
  /** Requests dropped unread since start (older than the socket's queue age limit). */
  #stale = 0;
  #closing = false;
  #onPacket: ListenerOptions['onPacket'];

  constructor(opts: ListenerOptions) {
    this.#o = opts;
    this.#onPacket = opts.onPacket;
    this.#limited = new LogLimiter({ intervalMs: 1000, ...(opts.logClock ? { clock: opts.logClock } : {}) });
  }

  /** Hands packets that arrive from now on to `onPacket` (a config reload); the sockets stay bound. */
  usePacketHandler(onPacket: ListenerOptions['onPacket']): void {
    this.#onPacket = onPacket;
  }

  /** Bound ports (after listen). */
  port(kind: Kind): number | undefined {
    return this.#groups.get(kind)?.port;
  }

  /** Binds every socket; rejects with a PxeError from `listenError` (and closes what was bound). */
  async listen(): Promise<ListeningAddress[]> {
    try {
      await this.#bindGroup('dhcp', this.#o.port);
      if (this.#o.pxePort !== undefined) await this.#bindGroup('bootserver', this.#o.pxePort);
    } catch (err) {
      this.#closeSockets();
      throw err;
    }
    const out: ListeningAddress[] = [];
    for (const g of this.#groups.values())
      out.push({ protocol: g.kind === 'dhcp' ? 'dhcp' : 'pxe', address: '0.0.0.0', port: g.port });
    return out;
  }

  async #bindGroup(kind: Kind, port: number): Promise<void> {
    const what = kind === 'dhcp' ? 'DHCP server' : 'PXE boot server';
    // SO_REUSEADDR (needed for the per-address sockets beside the wildcard) would let a second DHCP
    // server share the port silently; an exclusive probe bind first turns that into PXE_ERR_LISTEN_IN_USE.
    const probe = await this.#bind(kind, what, port, '0.0.0.0', undefined, false);
    const real = probe.port;
    probe.close();
    const group: Group = { kind, port: real, wildcard: undefined, byAddress: new Map() };
    this.#groups.set(kind, group);
    group.wildcard = await this.#bind(kind, what, real, '0.0.0.0', undefined);
    group.port = group.wildcard.port;
    for (const a of this.#o.addresses) {
      if (group.byAddress.has(a.address)) continue;
      group.byAddress.set(a.address, {
        socket: await this.#bind(kind, what, group.port, a.address, a.interface),
        iface: a.interface,
      });
    }
  }

  async #bind(
    kind: Kind,
    what: string,
    port: number,
    address: string,
    iface: string | undefined,
    reuseAddr = true,
  ): Promise<DhcpSocket> {
    const local = iface === undefined ? undefined : { address, interface: iface };
    try {
      return await bindDhcpSocket(this.transport, address, port, reuseAddr, {
        onMessage: (buf, from, fromPort) => {
          if (reuseAddr) this.#receive(kind, buf, from, fromPort, local); // the exclusive probe only binds
        },
        onError: (err) =>
          this.#limited.warn(this.#o.log, { event: 'dhcp.socket.error', err, address, port }, 'DHCP socket error'),
        onStale: (count) => this.#noteStale(count, address, port),
      });
    } catch (err) {
      throw listenError(err as NodeJS.ErrnoException, what, port, address);
    }
  }

  #receive(kind: Kind, buffer: Buffer, address: string, port: number, local: Incoming['local']): void {
    if (this.#closing) return;
    const p = this.#onPacket({ buffer, kind, source: { address, port }, ...(local ? { local } : {}) })
      .then((reply) => {
        if (reply) this.send(kind, reply);
      })
      .catch((err: unknown) => this.#o.log.error({ event: 'dhcp.error', err }, 'DHCP packet handling failed'))
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Sends from the socket bound to the reply's local address when there is one (right interface), else the wildcard. */
  send(kind: Kind, reply: Prepared): void {
    const group = this.#groups.get(kind);
    const socket = (reply.local.address && group?.byAddress.get(reply.local.address)?.socket) || group?.wildcard;
    if (!socket) return;
    this.#queueFor(socket).send(reply.buffer, reply.to.port, reply.to.address);
  }

  #queueFor(socket: DhcpSocket): ReplyQueue {
    let q = this.#queues.get(socket);
    if (!q) {
      q = new ReplyQueue(socket, {
        onError: (err, to) =>
          this.#limited.warn(this.#o.log, { event: 'dhcp.send.error', err, to }, 'DHCP reply could not be sent'),
        onDrop: (reason) => this.#noteDrop(reason),
      });
      this.#queues.set(socket, q);
    }
    return q;
  }

  /** Requests dropped unread (too long in the kernel's queue): one warning a second at most, with the total. */
  #noteStale(count: number, address: string, port: number): void {
    this.#stale += count;
    this.#limited.warn(
      this.#o.log,
      { event: 'dhcp.receive.stale', stale: this.#stale, address, port },
      `DHCP requests dropped unread: they waited over ${DHCP_MAX_QUEUE_AGE_MS} ms in the receive queue, more arrive ` +
        'than pxekit answers. ' +
        'Real clients retransmit and are answered once the queue is short; if this lasts, find the sender ' +
        '(a flood or a misbehaving relay: capture on the interface) and filter it upstream',
    );
  }

  /** Replies dropped unsent (queue full or too old): one warning a second at most, with the total. */
  #noteDrop(reason: string): void {
    this.#dropped++;
    this.#limited.warn(
      this.#o.log,
      { event: 'dhcp.reply.dropped', reason, dropped: this.#dropped },
      'DHCP replies dropped: more to send than the socket takes (a flood?)',
      reason,
    );
  }

  /** Stops taking packets, lets in-flight ones finish for up to `graceMs`, then closes every socket. */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    if (this.#inFlight.size) {
      await raceTimer(Promise.allSettled([...this.#inFlight]), graceMs, () => undefined);
    }
    this.#closeSockets();
  }

  #closeSockets(): void {
    for (const g of this.#groups.values()) {
      for (const s of [g.wildcard, ...[...g.byAddress.values()].map((b) => b.socket)]) s?.close();
    }
    this.#groups.clear();
    this.#limited.flush();
  }
}
