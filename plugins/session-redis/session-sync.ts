/**
 * Boot sessions shared between instances. TFTP and HTTP look a session up synchronously by source IP
 * (`server.sessions.byIp`), so there is no point where a lookup could wait on Redis; instead each
 * instance *replicates*: after a DHCP step it writes the session to `<p>session:<mac>` (JSON, TTL =
 * sessions.ttlSeconds) and publishes it on `<p>sessions`; every other instance upserts what it
 * receives into its own SessionStore (bounded by sessions.max, LRU). A boot that got its address and
 * decision from instance A therefore finds its session on instance B when it fetches from B.
 * At start, and after a Redis outage (messages published meanwhile are lost), the stored sessions are
 * read back (SCAN, bounded). Writes are coalesced per MAC and flushed every 50 ms.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BootEvent, BootSession, BootSpec, SessionStore } from 'pxekit';
import { type RedisLink, RedisUnavailableError } from 'pxekit/kit';

const FLUSH_MS = 50;
/** SCAN rounds at most when reading sessions back (1000 keys each). */
const MAX_SCAN_ROUNDS = 1000;

interface Wire {
  from: string;
  session: WireSession;
}
type WireSession = Omit<BootSession, 'boot'> & {
  boot?: Omit<BootSpec, 'dhcpOptions'> & { dhcpOptions?: Record<string, string> };
};

export interface SessionSyncOptions {
  link: RedisLink;
  sessions: SessionStore;
  instanceId: string;
  ttlMs: number;
  /** Most MACs waiting to be written; beyond, updates are dropped (counted in a warning). */
  maxPending: number;
  log: Logger;
}

export class SessionSync {
  readonly #o: SessionSyncOptions;
  readonly #dirty = new Map<string, BootSession>();
  readonly #channel: string;
  #timer: NodeJS.Timeout | undefined;
  #sub: Redis | undefined;
  #dropped = 0;
  #started = false;
  /** The subscriber connection's state (ioredis status: `ready`, `reconnecting`...). */
  get subscriberStatus(): string {
    return this.#sub?.status ?? 'none';
  }

  /** Sessions received from others (tests, status). */
  received = 0;

  constructor(opts: SessionSyncOptions) {
    this.#o = opts;
    this.#channel = opts.link.key('sessions');
    // After an outage: what was published meanwhile is lost, read the stored copies again.
    opts.link.onUp(async () => {
      if (this.#started) await this.load();
    });
  }

  /** The bootEvent tap: marks a session to share after each DHCP step. Fast, never throws. */
  onEvent(e: BootEvent): void {
    if (e.protocol !== 'dhcp' || !e.session || e.type === 'dhcp.drop') return;
    if (!this.#dirty.has(e.session.mac) && this.#dirty.size >= this.#o.maxPending) {
      this.#dropped++;
      return;
    }
    this.#dirty.set(e.session.mac, e.session);
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  async start(): Promise<void> {
    const sub = this.#o.link.duplicate();
    this.#sub = sub;
    sub.on('error', () => undefined); // the main link reports outages
    sub.on('message', (_ch: string, msg: string) => this.#receive(msg));
    // Not awaited: with Redis away it would wait for it. Subscribed again on every reconnect and
    // recovery: ioredis's own re-subscribe can fail while a restarted Redis is still loading (LOADING).
    // Once subscribed again, read the stored sessions: what was published before is not replayed.
    const subscribe = () =>
      void sub
        .subscribe(this.#channel)
        .then(async () => {
          if (this.#started) await this.load();
        })
        .catch(() => undefined);
    sub.on('ready', subscribe);
    this.#o.link.onUp(subscribe);
    subscribe();
    await this.load();
    this.#started = true;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#sub?.disconnect();
  }

  /** Writes and publishes the pending sessions (one pipeline). While Redis is down they are dropped. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#dirty.size) return;
    const batch = [...this.#dirty.values()];
    this.#dirty.clear();
    if (this.#dropped) {
      this.#o.log.warn(
        { event: 'session-redis.dropped', count: this.#dropped },
        'session updates dropped: too many pending',
      );
      this.#dropped = 0;
    }
    try {
      await this.#o.link.run(async (c) => {
        const p = c.pipeline();
        for (const s of batch) {
          const body = JSON.stringify({ from: this.#o.instanceId, session: toWire(s) } satisfies Wire);
          p.set(this.#o.link.key('session', s.mac), body, 'PX', this.#o.ttlMs);
          p.publish(this.#channel, body);
        }
        await p.exec();
      });
    } catch (err) {
      if (!(err instanceof RedisUnavailableError))
        this.#o.log.error(
          { event: 'session-redis.write.error', err, code: 'PXE_ERR_REDIS' },
          'sharing boot sessions failed',
        );
    }
  }

  /** Reads the stored sessions into the local store (start and every recovery). */
  async load(): Promise<number> {
    let n = 0;
    try {
      await this.#o.link.run(async (c) => {
        let cursor = '0';
        for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
          const [next, keys] = await c.scan(cursor, 'MATCH', `${this.#o.link.key('session')}:*`, 'COUNT', 1000);
          if (keys.length) for (const body of await c.mget(keys)) if (body && this.#apply(body, true)) n++;
          cursor = next;
          if (cursor === '0') break;
        }
      });
      this.#o.log.info({ event: 'session-redis.loaded', sessions: n }, 'boot sessions read from Redis');
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
    }
    return n;
  }

  #receive(msg: string): void {
    if (this.#apply(msg, false)) this.received++;
  }

  /** Upserts a session from another instance; false for our own, malformed, or (at load) stale ones. */
  #apply(body: string, atLoad: boolean): boolean {
    let w: Wire;
    try {
      w = JSON.parse(body) as Wire;
    } catch {
      return false;
    }
    const s = w?.session;
    if (!s || typeof s.mac !== 'string' || (!atLoad && w.from === this.#o.instanceId)) return false;
    const local = this.#o.sessions.get(s.mac);
    // At load, what we already have (from our own DHCP) is newer than the stored copy.
    if (atLoad && local && local.lastSeen >= s.lastSeen) return false;
    const { mac: _mac, files: _files, bytes: _bytes, firstSeen: _first, lastSeen: _last, boot, ...rest } = s;
    this.#o.sessions.upsert(s.mac, {
      ...rest,
      labels: { ...(s.labels ?? {}) },
      ...(boot ? { boot: fromWireBoot(boot) } : {}),
    });
    return true;
  }
}

function toWire(s: BootSession): WireSession {
  const { boot, ...rest } = s;
  if (!boot) return rest;
  const { dhcpOptions, ...spec } = boot;
  const opts = dhcpOptions
    ? Object.fromEntries(Object.entries(dhcpOptions).map(([k, v]) => [k, v.toString('hex')]))
    : undefined;
  return { ...rest, boot: { ...spec, ...(opts ? { dhcpOptions: opts } : {}) } };
}

function fromWireBoot(b: NonNullable<WireSession['boot']>): BootSpec {
  const { dhcpOptions, ...spec } = b;
  if (!dhcpOptions) return spec;
  return {
    ...spec,
    dhcpOptions: Object.fromEntries(Object.entries(dhcpOptions).map(([k, v]) => [Number(k), Buffer.from(v, 'hex')])),
  };
}
