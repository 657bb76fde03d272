/**
 * Picks addresses for full-mode DHCP. The lease store is the authority (every hold and lease is a
 * compare-and-set there); the allocator keeps, per pool, a local "busy until" array over the range
 * and a rotating pointer, so finding a candidate is a scan of a typed array, not a store round trip
 * per address. A candidate the store refuses (another instance took it) is marked and skipped.
 *
 * An exhausted pool takes back its oldest unanswered OFFER (older than PREEMPT_AFTER_MS) for a new
 * client: a flood of DISCOVERs from random MACs would otherwise hold every address for the whole offer
 * hold and starve real clients (DHCP starvation). The take-back is a store release of that offer (only
 * while it is still an offer to that MAC) followed by a normal compare-and-set offer, so the store
 * still decides: a client whose offer was taken back gets a NAK for its REQUEST and starts over.
 */
import { ipToString, parseIp } from '../../util/ipv4.js';
import { contains, type Pool } from './pool.js';
import type { Lease, LeaseState, LeaseStore, LeaseWrite } from './store.js';

/** Store refusals tolerated in one allocation before giving up (a shared store under heavy contention). */
const MAX_CAS_ATTEMPTS = 64;
/** An OFFER younger than this is never taken back (a real client REQUESTs within milliseconds). */
export const PREEMPT_AFTER_MS = 2000;

/** One OFFER this allocator made, in the order made (PoolState.offers). */
interface HeldOffer {
  ip: string;
  mac: string;
  expiresAt: number;
  at: number;
}

interface PoolState {
  pool: Pool;
  /** ms timestamp until which range address i is busy; 0 = free, Infinity = never handed out dynamically. */
  busyUntil: Float64Array;
  next: number;
  /** Offers in the order made; entries whose address moved on since are skipped when read. */
  offers: HeldOffer[];
  offersHead: number;
}

export interface AllocateRequest {
  mac: string;
  /** Addresses to try first, best first (selectLease proposal, old lease, option 50); each is checked. */
  preferred: Array<string | undefined>;
  /** The hold ends at this time (ms). */
  expiresAt: number;
  clientId?: string;
  hostname?: string;
  now: number;
}

export class Allocator {
  readonly store: LeaseStore;
  readonly #states = new Map<Pool, PoolState>();

  /** `excluded`: addresses never handed out (the server's own, routers). */
  constructor(store: LeaseStore, pools: readonly Pool[], excluded: readonly string[] = []) {
    this.store = store;
    for (const pool of pools) {
      const busyUntil = new Float64Array(pool.end - pool.start + 1);
      const state: PoolState = { pool, busyUntil, next: 0, offers: [], offersHead: 0 };
      for (const ip of [...pool.reservedIps.keys(), ...excluded, pool.config.router]) this.#mark(state, ip, Infinity);
      // The network and broadcast addresses are never hosts (RFC 919/922), whatever the range says.
      this.#mark(state, ipToString(pool.network), Infinity);
      this.#mark(state, ipToString(pool.broadcast), Infinity);
      this.#states.set(pool, state);
    }
  }

  /** Reads the store's records into the local view (call after `store.load()`). */
  async sync(pools: readonly Pool[]): Promise<void> {
    for (const lease of await this.store.list()) this.note(pools, lease);
  }

  /** Records what the store now says about one address. */
  note(pools: readonly Pool[], lease: Pick<Lease, 'ip' | 'expiresAt'>): void {
    const n = parseIp(lease.ip);
    for (const pool of pools) {
      if (!contains(pool, n)) continue;
      const st = this.#states.get(pool);
      if (st) this.#mark(st, lease.ip, lease.expiresAt);
    }
  }

  /**
   * May `mac` hold `ip` from `pool`? Inside the subnet; an address reserved for another MAC never;
   * the MAC's own reservation always; otherwise only inside the dynamic range and not excluded.
   */
  allowed(pool: Pool, mac: string, ip: string): boolean {
    const n = parseIp(ip);
    if (!contains(pool, n)) return false;
    const owner = pool.reservedIps.get(ip);
    if (owner !== undefined) return owner === mac;
    if (n < pool.start || n > pool.end) return false;
    return this.#states.get(pool)?.busyUntil[n - pool.start] !== Infinity;
  }

  /**
   * Holds an address for `req.mac`: its reservation, then each preferred address, then the first free
   * one from the pointer. Returns undefined when the pool is exhausted (or contended beyond retries).
   */
  async offer(pool: Pool, req: AllocateRequest): Promise<Lease | undefined> {
    const st = this.#states.get(pool)!;
    const write = (ip: string) => ({
      ip,
      mac: req.mac,
      expiresAt: req.expiresAt,
      subnet: pool.cidr,
      ...(req.clientId ? { clientId: req.clientId } : {}),
      ...(req.hostname ? { hostname: req.hostname } : {}),
    });
    const reserved = pool.reservations.get(req.mac);
    const tried = new Set<string>();
    for (const ip of [reserved?.ip, ...req.preferred]) {
      if (ip === undefined || tried.has(ip) || !this.allowed(pool, req.mac, ip)) continue;
      tried.add(ip);
      const got = await this.store.offer(write(ip), req.now);
      if (got) return this.#took(st, got);
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const ip = this.#scan(st, req.now);
      if (ip === undefined) return this.#takeBackOffer(st, req, write);
      const got = await this.store.offer(write(ip), req.now);
      if (got) return this.#took(st, got);
      // Someone else holds it (another instance, or a record we did not know): learn and move on.
      const cur = await this.store.getByIp(ip);
      this.#mark(st, ip, cur && cur.expiresAt > req.now ? cur.expiresAt : req.now + 1000);
    }
    return undefined;
  }

  /** Binds `ip` to `mac` (an ACK). Undefined when the address is not allowed or someone else's. */
  async commit(
    pool: Pool,
    lease: Omit<Lease, 'updatedAt' | 'state' | 'subnet'>,
    now: number,
  ): Promise<Lease | undefined> {
    if (!this.allowed(pool, lease.mac, lease.ip)) return undefined;
    const got = await this.store.commit({ ...lease, subnet: pool.cidr }, now);
    if (got) this.#took(this.#states.get(pool)!, got);
    return got;
  }

  async release(
    pool: Pool | undefined,
    mac: string,
    ip: string,
    now: number,
    onlyState?: LeaseState,
  ): Promise<boolean> {
    const ok = await (onlyState === undefined
      ? this.store.release(mac, ip, now)
      : this.store.release(mac, ip, now, onlyState));
    if (ok && pool) this.#mark(this.#states.get(pool)!, ip, 0);
    return ok;
  }

  async decline(pool: Pool, ip: string, until: number, now: number): Promise<void> {
    await this.store.decline(ip, until, pool.cidr, now);
    this.#mark(this.#states.get(pool)!, ip, until);
  }

  /** Free addresses left in a pool at `now` (local view), for logs and tests. */
  free(pool: Pool, now: number): number {
    const b = this.#states.get(pool)!.busyUntil;
    let n = 0;
    for (let i = 0; i < b.length; i++) if (b[i]! <= now) n++;
    return n;
  }

  #took(st: PoolState, lease: Lease): Lease {
    this.#mark(st, lease.ip, lease.expiresAt);
    if (lease.state === 'offered') this.#rememberOffer(st, lease);
    return lease;
  }

  #rememberOffer(st: PoolState, lease: Lease): void {
    const q = st.offers;
    // Bounded: at most two entries per address (older ones are stale by then); compact when half is read.
    if (q.length - st.offersHead >= 2 * st.busyUntil.length) st.offersHead++;
    if (st.offersHead > 1024 && st.offersHead * 2 > q.length) {
      q.splice(0, st.offersHead);
      st.offersHead = 0;
    }
    q.push({ ip: lease.ip, mac: lease.mac, expiresAt: lease.expiresAt, at: lease.updatedAt });
  }

  /** The pool is exhausted: release the oldest offer old enough to take back, and offer its address. */
  async #takeBackOffer(
    st: PoolState,
    req: AllocateRequest,
    write: (ip: string) => LeaseWrite,
  ): Promise<Lease | undefined> {
    const q = st.offers;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS && st.offersHead < q.length;) {
      const o = q[st.offersHead]!;
      if (o.at > req.now - PREEMPT_AFTER_MS) return undefined; // the rest are younger still
      st.offersHead++;
      // Still that offer in our view (not acknowledged, released or re-offered since)?
      const i = parseIp(o.ip) - st.pool.start;
      if (st.busyUntil[i] !== o.expiresAt || o.expiresAt <= req.now || o.mac === req.mac) continue;
      attempt++;
      if (!(await this.store.release(o.mac, o.ip, req.now, 'offered'))) continue;
      const got = await this.store.offer(write(o.ip), req.now);
      if (got) return this.#took(st, got);
      this.#mark(st, o.ip, req.now + 1000);
    }
    return undefined;
  }

  /** First address free at `now`, from the rotating pointer (wraps once). */
  #scan(st: PoolState, now: number): string | undefined {
    const b = st.busyUntil;
    const len = b.length;
    for (let k = 0; k < len; k++) {
      const i = (st.next + k) % len;
      if (b[i]! <= now) {
        st.next = (i + 1) % len;
        return ipToString(st.pool.start + i);
      }
    }
    return undefined;
  }

  /** Sets an address's busy time in the local view. */
  #mark(st: PoolState, ip: string | undefined, until: number): void {
    if (ip === undefined) return;
    const n = parseIp(ip);
    if (n < st.pool.start || n > st.pool.end) return;
    const i = n - st.pool.start;
    // Excluded and reserved addresses (Infinity) stay out of dynamic scans, whatever the store says.
    if (st.busyUntil[i] === Infinity) return;
    st.busyUntil[i] = until;
  }
}
