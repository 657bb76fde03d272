/**
 * The default lease store: two maps in this process. Nothing survives a restart (clients then get
 * their address back only if it is still free). Single-threaded JavaScript makes every method
 * atomic: no await happens between the check and the write.
 */
import { canTake, type Lease, type LeaseState, type LeaseStore, type LeaseWrite } from './store.js';

export class MemoryLeaseStore implements LeaseStore {
  readonly name: string = 'memory';
  readonly #byIp = new Map<string, Lease>();
  readonly #byMac = new Map<string, Lease>();

  async load(): Promise<void> {}

  async get(mac: string): Promise<Lease | undefined> {
    return this.#byMac.get(mac);
  }

  async getByIp(ip: string): Promise<Lease | undefined> {
    return this.#byIp.get(ip);
  }

  async offer(lease: LeaseWrite, now: number): Promise<Lease | undefined> {
    return this.write(lease, 'offered', now);
  }

  async commit(lease: LeaseWrite, now: number): Promise<Lease | undefined> {
    return this.write(lease, 'bound', now);
  }

  async release(mac: string, ip: string, now: number, onlyState?: LeaseState): Promise<boolean> {
    const cur = this.#byIp.get(ip);
    if (!cur || cur.mac !== mac || cur.state === 'declined') return false;
    if (onlyState !== undefined && cur.state !== onlyState) return false;
    const next: Lease = { ...cur, state: 'released', expiresAt: Math.min(cur.expiresAt, now), updatedAt: now };
    this.#put(next);
    return true;
  }

  async decline(ip: string, until: number, subnet: string, now: number): Promise<void> {
    const cur = this.#byIp.get(ip);
    if (cur && cur.mac && this.#byMac.get(cur.mac) === cur) this.#byMac.delete(cur.mac);
    this.#byIp.set(ip, { ip, mac: '', state: 'declined', expiresAt: until, subnet, updatedAt: now });
  }

  async list(): Promise<Lease[]> {
    return [...this.#byIp.values()].map((l) => ({ ...l }));
  }

  async close(): Promise<void> {}

  /**
   * The synchronous core of `offer`/`commit`, public so that stores built on this one (a durable file
   * store replaying a log) reuse the exact rule. Returns a copy of the stored record, or undefined.
   */
  write(lease: LeaseWrite, state: 'offered' | 'bound', now: number): Lease | undefined {
    const cur = this.#byIp.get(lease.ip);
    if (!canTake(cur, lease.mac, now)) return undefined;
    let next: Lease = { ...lease, state, updatedAt: now };
    // Re-offering a bound, live lease must not shorten it or turn it back into an offer.
    if (state === 'offered' && cur && cur.mac === lease.mac && cur.state === 'bound' && cur.expiresAt > now) {
      next = { ...next, state: 'bound', expiresAt: Math.max(cur.expiresAt, lease.expiresAt) };
    }
    this.#put(next);
    return { ...next };
  }

  /** Stores `lease` as the one record of its address and of its MAC (dropping the MAC's other record). */
  #put(lease: Lease): void {
    const prevOfIp = this.#byIp.get(lease.ip);
    if (prevOfIp && prevOfIp.mac !== lease.mac && this.#byMac.get(prevOfIp.mac) === prevOfIp)
      this.#byMac.delete(prevOfIp.mac);
    const prevOfMac = this.#byMac.get(lease.mac);
    if (prevOfMac && prevOfMac.ip !== lease.ip && this.#byIp.get(prevOfMac.ip) === prevOfMac)
      this.#byIp.delete(prevOfMac.ip);
    this.#byIp.set(lease.ip, lease);
    this.#byMac.set(lease.mac, lease);
  }
}
