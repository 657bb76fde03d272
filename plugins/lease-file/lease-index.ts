/**
 * The in-memory view of the lease file: two maps, and the same compare-and-set rule as every store
 * (`canTake` in core/dhcp/leases/store.ts). Records are never mutated in place (each change stores a
 * new object), so a list taken for a snapshot stays consistent while writes go on.
 *
 * `put` is also how the log is replayed: a record holds the whole lease after a mutation, and putting
 * records in log order rebuilds exactly the maps the mutations built.
 */
import { canTake, type Lease, type LeaseState, type LeaseWrite } from 'pxekit/kit';

export class LeaseIndex {
  readonly #byIp = new Map<string, Lease>();
  readonly #byMac = new Map<string, Lease>();

  get size(): number {
    return this.#byIp.size;
  }

  get(mac: string): Lease | undefined {
    return this.#byMac.get(mac);
  }

  getByIp(ip: string): Lease | undefined {
    return this.#byIp.get(ip);
  }

  /**
   * offer/commit: the compare-and-set, then the write. Returns the stored record (an offer to the
   * holder of a live lease that would not lengthen it keeps the stored one), or undefined when the
   * address is someone else's.
   */
  write(lease: LeaseWrite, state: 'offered' | 'bound', now: number): Lease | undefined {
    const cur = this.#byIp.get(lease.ip);
    if (!canTake(cur, lease.mac, now)) return undefined;
    let next: Lease = { ...lease, state, updatedAt: now };
    // Re-offering a bound, live lease must not shorten it or turn it back into an offer.
    if (state === 'offered' && cur && cur.mac === lease.mac && cur.state === 'bound' && cur.expiresAt > now) {
      next = { ...next, state: 'bound', expiresAt: Math.max(cur.expiresAt, lease.expiresAt) };
      if (
        cur.subnet === next.subnet &&
        cur.expiresAt === next.expiresAt &&
        cur.clientId === next.clientId &&
        cur.hostname === next.hostname &&
        this.#byMac.get(lease.mac) === cur
      ) {
        return cur;
      }
    }
    this.put(next);
    return next;
  }

  /** RELEASE: the new record, or undefined when the address is not this MAC's (or not in `onlyState`). */
  release(mac: string, ip: string, now: number, onlyState?: LeaseState): Lease | undefined {
    const cur = this.#byIp.get(ip);
    if (!cur || cur.mac !== mac || cur.state === 'declined') return undefined;
    if (onlyState !== undefined && cur.state !== onlyState) return undefined;
    const next: Lease = { ...cur, state: 'released', expiresAt: Math.min(cur.expiresAt, now), updatedAt: now };
    this.put(next);
    return next;
  }

  /** DECLINE: the address becomes nobody's until `until`. */
  decline(ip: string, until: number, subnet: string, now: number): Lease {
    const next: Lease = { ip, mac: '', state: 'declined', expiresAt: until, subnet, updatedAt: now };
    this.put(next);
    return next;
  }

  /** Stores `lease` as the one record of its address and (unless declined: no owner) of its MAC. */
  put(lease: Lease): void {
    const prevOfIp = this.#byIp.get(lease.ip);
    if (prevOfIp && prevOfIp.mac !== lease.mac && this.#byMac.get(prevOfIp.mac) === prevOfIp)
      this.#byMac.delete(prevOfIp.mac);
    if (lease.mac !== '') {
      const prevOfMac = this.#byMac.get(lease.mac);
      if (prevOfMac && prevOfMac.ip !== lease.ip && this.#byIp.get(prevOfMac.ip) === prevOfMac)
        this.#byIp.delete(prevOfMac.ip);
      this.#byMac.set(lease.mac, lease);
    }
    this.#byIp.set(lease.ip, lease);
  }

  /** Every record (the stored objects: callers copy before handing them out). */
  records(): Lease[] {
    return [...this.#byIp.values()];
  }
}
