/**
 * The lease store interface: where full-mode DHCP keeps who holds which address. The core ships an
 * in-memory store (memory-store.ts); a plugin may provide another one (a durable file, Redis, SQL)
 * with `ctx.provide('leaseStore', store)` from its `apply`. docs/dhcp.md lists what each method
 * must guarantee; the short version is: every method that changes a lease is a compare-and-set on
 * the address, so that two pxekit instances sharing one store can never hand one address to two
 * clients.
 */

/** What a lease record is. `declined` records have no owner (`mac` is empty). */
export type LeaseState = 'offered' | 'bound' | 'released' | 'declined';

/** One address held (or last held) by one client. Times are ms since the epoch. */
export interface Lease {
  /** Dotted-quad IPv4 address. */
  ip: string;
  /** Lowercase colon MAC of the holder; empty for a declined address. */
  mac: string;
  state: LeaseState;
  /**
   * Until when the address is held: the offer hold, the lease end, the decline quarantine end.
   * At or after this time the address is free for anyone (a `released` lease has `expiresAt` = the
   * release time and is kept only so the client can get the same address back).
   */
  expiresAt: number;
  /** The pool's subnet in CIDR form, e.g. `10.99.0.0/24`. */
  subnet: string;
  /** Option 61 as hex, when the client sent one. */
  clientId?: string;
  /** Option 12 or the reservation's host name. */
  hostname?: string;
  /** When this record was last written (ms). */
  updatedAt: number;
}

/** A new hold or lease: everything but `updatedAt`, which the store sets. */
export type LeaseWrite = Omit<Lease, 'updatedAt' | 'state'>;

/**
 * A lease store. Every method is async so that a network store fits behind it.
 *
 * Atomicity: `offer` and `commit` must check and write in one atomic step (a Redis Lua script or
 * WATCH/MULTI, an SQL transaction or a conditional UPDATE, a mutex in a single process): "the address
 * is free, or expired, or already this MAC's" → write. A store that cannot do that must not be
 * shared between instances.
 */
export interface LeaseStore {
  /** Short name for logs (`memory`, `file`, `redis`). */
  readonly name: string;
  /** Open and read what is there (called once by `start()` in full mode, before any packet). */
  load(): Promise<void>;
  /** The record of this MAC (any state, even expired: the allocator prefers a client's old address). */
  get(mac: string): Promise<Lease | undefined>;
  /** The record of this address (any state, even expired). */
  getByIp(ip: string): Promise<Lease | undefined>;
  /**
   * Holds `ip` for `mac` until `expiresAt` (an OFFER). Succeeds, returning the stored record, when
   * the address has no record, its record is expired (`expiresAt <= now`), or it is already this
   * MAC's; a bound lease of the same MAC keeps its state and its later expiry. On success any other
   * record of the same MAC is dropped (one address per client). Returns undefined when the address
   * is someone else's: the caller picks another.
   */
  offer(lease: LeaseWrite, now: number): Promise<Lease | undefined>;
  /** Binds `ip` to `mac` until `expiresAt` (an ACK), with the same compare-and-set rule as `offer`. */
  commit(lease: LeaseWrite, now: number): Promise<Lease | undefined>;
  /**
   * Frees `ip` if it is this MAC's (RELEASE, or a client that chose another server). False otherwise.
   * With `onlyState`, frees it only while the record is still in that state, in the same atomic step:
   * a shared store must not free a lease another instance bound between our read and this call.
   */
  release(mac: string, ip: string, now: number, onlyState?: LeaseState): Promise<boolean>;
  /** Quarantines `ip` (a client said it is in use, DHCPDECLINE) until `until`, whoever held it. */
  decline(ip: string, until: number, subnet: string, now: number): Promise<void>;
  /** Every record (for status pages, tests and the allocator's start-up view). */
  list(): Promise<Lease[]>;
  /** Flush and release resources. */
  close(): Promise<void>;
}

/** True when `lease` no longer holds its address at `now`. */
export function isExpired(lease: Pick<Lease, 'expiresAt'>, now: number): boolean {
  return lease.expiresAt <= now;
}

/**
 * The compare-and-set rule shared by every store: may `mac` take an address whose current record is
 * `current`? Exported so that other stores (file, Redis script) implement the very same rule.
 */
export function canTake(current: Lease | undefined, mac: string, now: number): boolean {
  return current === undefined || (current.mac === mac && current.state !== 'declined') || isExpired(current, now);
}
