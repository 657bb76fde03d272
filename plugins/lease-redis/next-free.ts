/**
 * `selectLease` for several instances: without it, every instance scans its pool from the same
 * first address, so two instances allocating at once collide on nearly every candidate (each
 * collision costs the allocator a refused compare-and-set and a re-read, up to 64 per request). A
 * shared cursor per pool in Redis (NEXT_FREE in scripts.ts) hands each request a different fresh
 * address. It only *proposes*: the core still checks the pool and does the compare-and-set.
 * No proposal for a client that has a record (it gets its old address back), asked for an address
 * (option 50), or has a reservation; nor while Redis is down.
 */
import type { LeaseSelection } from 'pxekit';
import { ipToString, type Pool, type RedisLink, RedisUnavailableError } from 'pxekit/kit';
import type { RedisLeases } from './redis-leases.js';

/** Addresses looked at per Redis call; proposals retried when the one found is excluded locally. */
const PROBES = 16;
const TRIES = 3;

export class NextFree {
  readonly #pools: readonly Pool[];
  readonly #excluded: Set<string>;
  readonly #redis: RedisLeases;
  readonly #link: RedisLink;
  readonly #now: () => number;

  /** `excluded`: addresses never proposed (reservations, routers, network/broadcast, the server's). */
  constructor(opts: {
    pools: readonly Pool[];
    excluded: readonly string[];
    redis: RedisLeases;
    link: RedisLink;
    now?: () => number;
  }) {
    this.#pools = opts.pools;
    this.#redis = opts.redis;
    this.#link = opts.link;
    this.#now = opts.now ?? Date.now;
    this.#excluded = new Set(opts.excluded);
    for (const p of opts.pools) {
      for (const ip of [...p.reservedIps.keys(), p.config.router, ipToString(p.network), ipToString(p.broadcast)])
        if (ip) this.#excluded.add(ip);
    }
  }

  async propose(sel: LeaseSelection): Promise<{ ip: string } | undefined> {
    if (sel.requestedIp || !this.#link.up) return undefined;
    const pool = this.#pools.find((p) => p.cidr === sel.subnet);
    const mac = sel.ctx.packet.mac;
    if (!pool || pool.reservations.has(mac)) return undefined;
    try {
      for (let i = 0; i < TRIES; i++) {
        const ip = await this.#redis.nextFree(
          `lease:cursor:${pool.cidr}:${pool.start}-${pool.end}`,
          mac,
          pool.start,
          pool.end - pool.start + 1,
          this.#now(),
          PROBES,
        );
        if (ip === undefined) return undefined;
        if (!this.#excluded.has(ip)) return { ip };
      }
    } catch (err) {
      // The core's own scan takes over; the outage itself is reported by the link.
      if (!(err instanceof RedisUnavailableError)) throw err;
    }
    return undefined;
  }
}
