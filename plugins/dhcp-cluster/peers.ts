/**
 * The peer heartbeat: instances on one LAN tell each other, over UDP and without Redis, whether they
 * reach Redis and which members they see, so that an instance cut from Redis can defer to a peer that
 * still reaches it, and instances that all lost Redis can split the clients among those still alive.
 *
 * Datagram: `PXKC` (4 bytes), version 1 (1 byte), HMAC-SHA256 (32 bytes) over magic, version and the
 * JSON body `{ id, seq, redis, mode, members }`. The key is shared by every instance (config). A
 * datagram is accepted only with a valid HMAC, a `seq` above the last one accepted from that id (a
 * replayed datagram is refused), and a `seq` within `maxSkewMs` of this host's clock (`seq` is a
 * millisecond timestamp made strictly increasing, so a restarted sender continues above its old
 * values and an old capture replayed to a restarted receiver is too old).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';

const MAGIC = Buffer.from('PXKC');
const VERSION = 1;
const HEADER = MAGIC.length + 1 + 32;
/** Keeps a datagram under a typical MTU: ids beyond this many are left out of `members`. */
export const MAX_MEMBERS = 32;

export type ClusterMode = 'redis' | 'defer' | 'fallback';

/** What one instance says about itself. */
export interface PeerBeat {
  id: string;
  /** This instance has a fresh member view from Redis. */
  redis: boolean;
  mode: ClusterMode;
  /** Its member view (Redis's, or in fallback the members it splits with). */
  members: string[];
}

export interface PeerState extends PeerBeat {
  address: string;
  /** Local time the last beat arrived. */
  heardAt: number;
}

export interface PeerOptions {
  id: string;
  key: string;
  port: number;
  bind: string;
  /** Where beats go: peer addresses or a broadcast address, each `host` or `host:port`. */
  addresses: string[];
  intervalMs: number;
  deadAfterMs: number;
  maxSkewMs: number;
  log: Logger;
  /** This instance's current beat content (read at each send). */
  self: () => Omit<PeerBeat, 'id'>;
  /** Called when a peer's reported state changes (or a peer appears). */
  onChange?: () => void;
}

export class PeerHeartbeat {
  readonly #o: PeerOptions;
  readonly #peers = new Map<string, PeerState>();
  readonly #lastSeq = new Map<string, number>();
  readonly #targets: Array<{ host: string; port: number }>;
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  /** Datagrams refused (bad HMAC, replayed, too old): counted, logged at debug. */
  rejected = 0;
  readonly startedAt = Date.now();

  constructor(opts: PeerOptions) {
    this.#o = opts;
    this.#targets = opts.addresses.map((a) => {
      const m = /^(.+?)(?::(\d+))?$/.exec(a)!;
      return { host: m[1]!, port: m[2] ? Number(m[2]) : opts.port };
    });
  }

  async start(): Promise<void> {
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    this.#socket = s;
    s.on('message', (msg, rinfo) => this.#receive(msg, rinfo.address));
    s.on('error', (err) =>
      this.#o.log.warn({ event: 'cluster.peers.error', reason: err.message }, 'peer heartbeat socket error'),
    );
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.#o.port, this.#o.bind, () => {
        s.off('error', reject);
        s.setBroadcast(true);
        resolve();
      });
    });
    this.send();
    this.#timer = setInterval(() => this.send(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const s = this.#socket;
    this.#socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** Peers heard within `deadAfterMs`. */
  fresh(now = Date.now()): PeerState[] {
    return [...this.#peers.values()].filter((p) => now - p.heardAt <= this.#o.deadAfterMs);
  }

  /** True until one `deadAfterMs` has passed since start: peers may exist that were not heard yet. */
  listening(now = Date.now()): boolean {
    return now - this.startedAt < this.#o.deadAfterMs;
  }

  /** Sends this instance's beat now (also on every change of its own state). */
  send(): void {
    const s = this.#socket;
    if (!s) return;
    this.#seq = Math.max(Date.now(), this.#seq + 1);
    const self = this.#o.self();
    const beat = { ...self, id: this.#o.id, seq: this.#seq, members: self.members.slice(0, MAX_MEMBERS) };
    const buf = seal(this.#o.key, beat);
    for (const t of this.#targets) s.send(buf, t.port, t.host, () => undefined);
  }

  #receive(msg: Buffer, address: string): void {
    const beat = open(this.#o.key, msg);
    if (!beat || beat.id === this.#o.id) {
      if (!beat) this.#reject('bad datagram or HMAC', address);
      return;
    }
    const now = Date.now();
    if (beat.seq <= (this.#lastSeq.get(beat.id) ?? 0)) return this.#reject('replayed or reordered', address);
    if (Math.abs(beat.seq - now) > this.#o.maxSkewMs) return this.#reject('timestamp outside maxSkewMs', address);
    this.#lastSeq.set(beat.id, beat.seq);
    const prev = this.#peers.get(beat.id);
    const next: PeerState = {
      id: beat.id,
      redis: beat.redis,
      mode: beat.mode,
      members: beat.members,
      address,
      heardAt: now,
    };
    this.#peers.set(beat.id, next);
    const changed =
      !prev ||
      now - prev.heardAt > this.#o.deadAfterMs ||
      prev.redis !== next.redis ||
      prev.mode !== next.mode ||
      prev.members.join(',') !== next.members.join(',');
    if (changed) this.#o.onChange?.();
  }

  #reject(why: string, address: string): void {
    this.rejected++;
    this.#o.log.debug({ event: 'cluster.peers.rejected', why, address }, 'peer heartbeat refused');
  }
}

type Wire = PeerBeat & { seq: number };

function mac(key: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(MAGIC).update(Buffer.of(VERSION)).update(body).digest();
}

export function seal(key: string, beat: Wire): Buffer {
  const body = Buffer.from(JSON.stringify(beat));
  return Buffer.concat([MAGIC, Buffer.of(VERSION), mac(key, body), body]);
}

/** The beat in `msg` if its HMAC is right and its fields well-formed, else undefined. */
export function open(key: string, msg: Buffer): Wire | undefined {
  if (msg.length <= HEADER || !msg.subarray(0, 4).equals(MAGIC) || msg[4] !== VERSION) return undefined;
  const body = msg.subarray(HEADER);
  if (!timingSafeEqual(mac(key, body), msg.subarray(5, HEADER))) return undefined;
  let w: Partial<Wire>;
  try {
    w = JSON.parse(body.toString()) as Partial<Wire>;
  } catch {
    return undefined;
  }
  const modes: readonly unknown[] = ['redis', 'defer', 'fallback'];
  if (
    typeof w.id !== 'string' ||
    typeof w.seq !== 'number' ||
    typeof w.redis !== 'boolean' ||
    !modes.includes(w.mode) ||
    !Array.isArray(w.members) ||
    !w.members.every((m) => typeof m === 'string')
  )
    return undefined;
  return w as Wire;
}
