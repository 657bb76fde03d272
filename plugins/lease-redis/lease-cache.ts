/**
 * This instance's copy of the lease records it has seen (written, or read from Redis), so that during
 * a Redis outage it can still answer the clients it knows. Bounded: past `max` records the least
 * recently touched one goes (a Map keeps insertion order; every put moves a record to the end).
 */
import type { Lease } from 'pxekit/kit';

/** A cached record and the expiry Redis last confirmed for it (a local renewal does not move that). */
export type CachedLease = Lease & { confirmedUntil: number };

export class LeaseCache {
  readonly #byIp = new Map<string, CachedLease>();
  readonly #ipByMac = new Map<string, string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#byIp.size;
  }

  byIp(ip: string): CachedLease | undefined {
    return this.#byIp.get(ip);
  }

  byMac(mac: string): CachedLease | undefined {
    const ip = this.#ipByMac.get(mac);
    const lease = ip === undefined ? undefined : this.#byIp.get(ip);
    return lease && lease.mac === mac ? lease : undefined;
  }

  /** Records what the store says about an address (and drops the MAC's record of another address, like the stores). */
  put(lease: Lease, confirmedUntil: number): void {
    const prev = this.#byIp.get(lease.ip);
    if (prev && prev.mac !== lease.mac && this.#ipByMac.get(prev.mac) === lease.ip) this.#ipByMac.delete(prev.mac);
    if (lease.mac) {
      const oldIp = this.#ipByMac.get(lease.mac);
      if (oldIp !== undefined && oldIp !== lease.ip && this.#byIp.get(oldIp)?.mac === lease.mac)
        this.#byIp.delete(oldIp);
      this.#ipByMac.set(lease.mac, lease.ip);
    }
    this.#byIp.delete(lease.ip);
    this.#byIp.set(lease.ip, { ...lease, confirmedUntil });
    while (this.#byIp.size > this.#max) {
      const oldest = this.#byIp.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
  }

  /** Drops what we know of an address (Redis said it is gone or someone else's). */
  forget(ip: string): void {
    const cur = this.#byIp.get(ip);
    if (!cur) return;
    this.#byIp.delete(ip);
    if (this.#ipByMac.get(cur.mac) === ip) this.#ipByMac.delete(cur.mac);
  }

  list(): Lease[] {
    return [...this.#byIp.values()].map(({ confirmedUntil: _, ...l }) => l);
  }
}
