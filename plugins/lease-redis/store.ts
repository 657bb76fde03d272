/**
 * The Redis lease store (LeaseStore, core/dhcp/leases/store.ts). While Redis answers, Redis is the
 * only authority: every offer/commit/release/decline is one Lua script (scripts.ts) doing the
 * compare-and-set. Each result is also kept in a bounded local cache (lease-cache.ts).
 *
 * While Redis is down (PXE_ERR_REDIS, reported once per episode by the RedisLink):
 * - a client whose live lease we know is served from the cache: its offer, and its renewal (ACK);
 *   a renewal is kept as a *pending write* (one per address, never a queue of replays);
 * - only while the expiry Redis last confirmed for that lease has not passed: until then no other
 *   instance can give the address away, even one that still reaches Redis (a partition);
 * - a client with a reservation for the address is served too (no one else can hold it);
 * - everyone else is refused (the error is thrown; the plugin's `receive` tap drops such DISCOVERs
 *   quietly first): a new address picked without Redis could be handed out twice.
 * When Redis is back, pending writes go back through the same scripts (compare-and-set); a write
 * that lost (someone else holds the address now) is logged as `lease-redis.conflict` and forgotten.
 */
import type { Logger } from 'pino';
import {
  type EmitFn,
  type Lease,
  type LeaseStore,
  type LeaseWrite,
  type RedisLink,
  RedisUnavailableError,
} from 'pxekit/kit';
import { LeaseCache, type CachedLease } from './lease-cache.js';
import { RedisLeases } from './redis-leases.js';

export interface RedisLeaseStoreOptions {
  link: RedisLink;
  log: Logger;
  /** How long a record stays readable after it expired (ms), so a returning client gets its address back. */
  retainMs: number;
  /** Most records kept in the local cache. */
  maxCached: number;
  /** True when `ip` is reserved for `mac` in the config (safe to hand out without Redis). */
  reserved?: (mac: string, ip: string) => boolean;
  emit?: EmitFn;
  /**
   * Renewals during an outage: `extend` grants the pool's full lease time and writes it back later
   * (available; a partition longer than the remaining lease can then conflict), `confirmed` grants
   * only up to the expiry Redis confirmed (partition-safe; nothing to write back).
   */
  outageRenewal?: 'extend' | 'confirmed';
  now?: () => number;
}

type Pending =
  | { kind: 'commit'; lease: LeaseWrite }
  | { kind: 'release'; mac: string; at: number }
  | { kind: 'decline'; until: number; subnet: string; at: number };

export class RedisLeaseStore implements LeaseStore {
  readonly name = 'redis';
  readonly redis: RedisLeases;
  readonly cache: LeaseCache;
  readonly #o: RedisLeaseStoreOptions;
  readonly #pending = new Map<string, Pending>();
  /** Leases granted from the cache during an outage, by address → their end (for the reply's lease time). */
  readonly #grants = new Map<string, number>();
  #flushing: Promise<void> | undefined;
  /** Set once the store has talked to Redis: from then on, a missing epoch marker means lost data. */
  #loaded = false;

  constructor(opts: RedisLeaseStoreOptions) {
    this.#o = opts;
    this.redis = new RedisLeases(opts.link, opts.retainMs);
    this.cache = new LeaseCache(opts.maxCached);
    opts.link.onUp(() => this.flush());
  }

  /** Writes kept during an outage, waiting for Redis. */
  get pendingWrites(): number {
    return this.#pending.size;
  }

  async load(): Promise<void> {
    if (!this.#o.link.up) {
      this.#o.log.warn(
        { event: 'lease-redis.start.degraded', code: 'PXE_ERR_REDIS' },
        'starting without Redis: no lease is known, new allocations refused until Redis answers',
      );
      return;
    }
    try {
      await this.#o.link.run((c) => c.set(this.#o.link.key('lease', 'epoch'), String(Date.now()), 'NX'));
      const all = await this.redis.list();
      for (const l of all) this.cache.put(l, l.expiresAt);
      this.#loaded = true;
      this.#o.log.info(
        { event: 'lease-redis.loaded', leases: all.length, cached: this.cache.size },
        'leases read from Redis',
      );
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
    }
  }

  async get(mac: string): Promise<Lease | undefined> {
    return this.#read(
      () => this.redis.get(mac),
      () => this.cache.byMac(mac),
      (l) => l === undefined && this.#forgetMac(mac),
    );
  }

  async getByIp(ip: string): Promise<Lease | undefined> {
    return this.#read(
      () => this.redis.getByIp(ip),
      () => this.cache.byIp(ip),
      (l) => l === undefined && this.cache.forget(ip),
    );
  }

  offer(lease: LeaseWrite, now: number): Promise<Lease | undefined> {
    return this.#write(lease, 'offered', now);
  }

  commit(lease: LeaseWrite, now: number): Promise<Lease | undefined> {
    return this.#write(lease, 'bound', now);
  }

  async release(mac: string, ip: string, now: number): Promise<boolean> {
    try {
      const ok = await this.redis.release(mac, ip, now);
      if (ok) this.#markReleased(ip, now);
      return ok;
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      const cur = this.cache.byIp(ip);
      if (!cur || cur.mac !== mac || cur.state === 'declined') return false;
      this.#markReleased(ip, now);
      this.#pending.set(ip, { kind: 'release', mac, at: now });
      return true;
    }
  }

  async decline(ip: string, until: number, subnet: string, now: number): Promise<void> {
    const rec: Lease = { ip, mac: '', state: 'declined', expiresAt: until, subnet, updatedAt: now };
    try {
      await this.redis.decline(ip, until, subnet, now);
      this.cache.put(rec, until);
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      // Quarantining locally is always safe; it is written back so others skip the address too.
      this.cache.put(rec, this.cache.byIp(ip)?.confirmedUntil ?? 0);
      this.#pending.set(ip, { kind: 'decline', until, subnet, at: now });
    }
  }

  async list(): Promise<Lease[]> {
    try {
      return await this.redis.list();
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      return this.cache.list();
    }
  }

  async close(): Promise<void> {
    if (this.#pending.size)
      this.#o.log.warn(
        { event: 'lease-redis.pending.lost', count: this.#pending.size, code: 'PXE_ERR_REDIS' },
        'closing with lease renewals not yet written to Redis (their clients renew again)',
      );
  }

  /** Writes back what the outage kept (called on every recovery). Concurrent calls share one run. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    await this.#reassertIfLost();
    if (!this.#pending.size) return;
    const now = (this.#o.now ?? Date.now)();
    const items = [...this.#pending];
    let written = 0;
    let conflicts = 0;
    for (const [ip, p] of items) {
      try {
        if (p.kind === 'commit') {
          const got = await this.redis.write(p.lease, 'bound', now);
          if (got) {
            this.cache.put(got, got.expiresAt);
            written++;
          } else {
            conflicts++;
            this.cache.forget(ip);
            const cur = await this.redis.getByIp(ip);
            this.#o.log.warn(
              { event: 'lease-redis.conflict', code: 'PXE_ERR_REDIS', ip, mac: p.lease.mac, holder: cur?.mac },
              `renewal of ${ip} made during the outage lost: Redis gives it to ` +
                `${cur?.mac || 'nobody'}; the client is NAKed at its next renewal`,
            );
            this.#o.emit?.({
              type: 'lease.conflict',
              protocol: 'dhcp',
              outcome: 'error',
              mac: p.lease.mac,
              ip,
              plugin: 'lease-redis',
              data: { holder: cur?.mac, code: 'PXE_ERR_REDIS' },
            });
          }
        } else if (p.kind === 'release') {
          await this.redis.release(p.mac, ip, p.at);
          written++;
        } else {
          await this.redis.decline(ip, p.until, p.subnet, p.at, p.at);
          written++;
        }
        if (this.#pending.get(ip) === p) this.#pending.delete(ip);
      } catch (err) {
        if (err instanceof RedisUnavailableError) break; // down again: the rest waits for the next recovery
        this.#pending.delete(ip);
        this.#o.log.error(
          { event: 'lease-redis.writeback.error', err, ip, code: 'PXE_ERR_REDIS' },
          'a pending lease write failed and was dropped',
        );
      }
    }
    this.#o.log.info(
      { event: 'lease-redis.writeback.done', written, conflicts, left: this.#pending.size },
      `wrote back ${written} lease change(s) kept during the Redis outage`,
    );
  }

  /**
   * A Redis restarted without persistence (or flushed) has forgotten every lease, and would let the
   * next client take an address that is still in use. The marker key `<p>lease:epoch` (set once, no
   * TTL) tells: missing after a reconnect = data lost. Then every live lease this instance knows is
   * written back through the same compare-and-set (each instance does so for what it knows).
   */
  async #reassertIfLost(): Promise<void> {
    const created = await this.#o.link
      .run((c) => c.set(this.#o.link.key('lease', 'epoch'), String(Date.now()), 'NX'))
      .catch(() => null);
    if (created !== 'OK' || !this.#loaded) return;
    const now = (this.#o.now ?? Date.now)();
    let written = 0;
    for (const l of this.cache.list()) {
      if (!l.mac || l.expiresAt <= now || (l.state !== 'bound' && l.state !== 'offered')) continue;
      const { state, updatedAt: _u, ...w } = l;
      try {
        if (await this.redis.write(w, state, now)) written++;
      } catch {
        break; // down again: the next recovery retries (the marker is there, so only pending writes then)
      }
    }
    this.#o.log.warn(
      { event: 'lease-redis.reasserted', code: 'PXE_ERR_REDIS', written },
      `Redis had lost its lease data (restart without persistence?): wrote back ${written} live lease(s) this instance knows`,
    );
  }

  async #write(lease: LeaseWrite, state: 'offered' | 'bound', now: number): Promise<Lease | undefined> {
    try {
      const got = await this.redis.write(lease, state, now);
      this.#loaded = true;
      if (got) {
        this.cache.put(got, got.expiresAt);
        // A fresh Redis write supersedes what the outage kept for this address.
        this.#pending.delete(lease.ip);
      }
      return got;
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      return this.#writeLocally(lease, state, now, err);
    }
  }

  /** The outage path of offer/commit: only a known live lease of this MAC, or its reservation. */
  #writeLocally(lease: LeaseWrite, state: 'offered' | 'bound', now: number, cause: RedisUnavailableError): Lease {
    const cur = this.cache.byIp(lease.ip);
    const known = cur !== undefined && cur.mac === lease.mac && cur.state !== 'declined' && cur.confirmedUntil > now;
    const reserved =
      this.#o.reserved?.(lease.mac, lease.ip) === true &&
      (cur === undefined || cur.mac === lease.mac || cur.expiresAt <= now);
    if (!known && !reserved) {
      this.#o.link.noteDropped();
      throw new RedisUnavailableError(
        `${cause.message.replace(/^Redis unavailable: /, '')}; ${lease.ip} for ${lease.mac} is ` +
          `not a lease this instance knows, so it is not handed out`,
      );
    }
    let next: Lease = { ...lease, state, updatedAt: now };
    if (state === 'offered' && cur && cur.mac === lease.mac && cur.state === 'bound' && cur.expiresAt > now) {
      next = { ...next, state: 'bound', expiresAt: Math.max(cur.expiresAt, lease.expiresAt) };
    }
    // `confirmed`: a known lease is not extended past what Redis guarantees (reservations are).
    if (known && this.#o.outageRenewal === 'confirmed')
      next = { ...next, expiresAt: Math.min(next.expiresAt, cur.confirmedUntil) };
    this.cache.put(next, cur?.confirmedUntil ?? 0);
    this.#o.link.noteServedFromCache();
    if (state === 'bound') {
      this.#grants.set(lease.ip, next.expiresAt);
      if (next.expiresAt > (cur?.confirmedUntil ?? 0))
        this.#pending.set(lease.ip, { kind: 'commit', lease: { ...lease, expiresAt: next.expiresAt } });
    }
    return next;
  }

  /**
   * The end of a lease just granted from the cache during an outage (once: the reply tap asks right
   * after the ACK is built), so the ACK can announce that lease time instead of the pool's.
   */
  takeOutageGrant(ip: string): number | undefined {
    const until = this.#grants.get(ip);
    this.#grants.delete(ip);
    if (this.#grants.size > 10_000) this.#grants.clear(); // grants whose ACK was never built (bounded)
    return until;
  }

  #markReleased(ip: string, now: number): void {
    const cur = this.cache.byIp(ip);
    if (cur)
      this.cache.put(
        { ...cur, state: 'released', expiresAt: Math.min(cur.expiresAt, now), updatedAt: now },
        Math.min(cur.confirmedUntil, now),
      );
  }

  #forgetMac(mac: string): void {
    const cur = this.cache.byMac(mac);
    if (cur) this.cache.forget(cur.ip);
  }

  /** A read from Redis (cached), or from the cache while Redis is down. */
  async #read(
    remote: () => Promise<Lease | undefined>,
    local: () => CachedLease | undefined,
    missing: (l: Lease | undefined) => unknown,
  ): Promise<Lease | undefined> {
    try {
      const l = await remote();
      if (l) this.cache.put(l, l.expiresAt);
      else missing(l);
      return l;
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      const c = local();
      if (!c) return undefined;
      const { confirmedUntil: _, ...lease } = c;
      return lease;
    }
  }
}
