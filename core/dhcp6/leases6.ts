/**
 * Stateful IA_NA bindings through the lease-store interface the IPv4 server uses (memory, file,
 * Redis): one store holds both families. A DHCPv6 binding is one IA of one client, so its store key
 * (the `mac` field of a lease record) is `v6:<DUID hex>:<IAID hex>`; its `ip` is the IPv6 address and
 * its `subnet` the pool prefix. Every write is the store's compare-and-set, so two instances sharing
 * a store never hand one address to two clients.
 */
import { duidHex } from './duid.js';
import { fromBigInt, poolContains, reservationFor, reservedForOther, toBigInt, type Pool6 } from './pool6.js';

/** What this module needs of a lease store (the IPv4 `LeaseStore` has exactly these shapes). */
export interface LeaseRecord6 {
  ip: string;
  mac: string;
  state: 'offered' | 'bound' | 'released' | 'declined';
  expiresAt: number;
  subnet: string;
}
type Write = { ip: string; mac: string; expiresAt: number; subnet: string; hostname?: string };
export interface LeaseStore6 {
  get(mac: string): Promise<LeaseRecord6 | undefined>;
  getByIp(ip: string): Promise<LeaseRecord6 | undefined>;
  offer(lease: Write, now: number): Promise<LeaseRecord6 | undefined>;
  commit(lease: Write, now: number): Promise<LeaseRecord6 | undefined>;
  release(mac: string, ip: string, now: number): Promise<boolean>;
  decline(ip: string, until: number, subnet: string, now: number): Promise<void>;
}

/** One client IA as the binding code sees it. */
export interface IaClient {
  duid: Buffer;
  iaid: number;
  mac: string | undefined;
}

export function bindingKey(c: Pick<IaClient, 'duid' | 'iaid'>): string {
  return `v6:${duidHex(c.duid).replace(/:/g, '')}:${c.iaid.toString(16).padStart(8, '0')}`;
}

/** How many addresses one allocation tries before it reports the pool exhausted. */
const MAX_TRIES = 512;

export class Bindings6 {
  readonly #next = new Map<Pool6, bigint>();

  constructor(
    readonly store: LeaseStore6,
    readonly pools: readonly Pool6[],
    /** How long an Advertise holds its address, ms. */
    readonly offerHoldMs = 60_000,
  ) {}

  /**
   * Picks and writes an address for the IA: its reservation, its previous address, the address it
   * hinted, then the first free one from a moving pointer. `commit` = Request / Rapid Commit (a
   * binding), otherwise an Advertise hold. Undefined when no address can be had.
   */
  async allocate(
    pool: Pool6,
    c: IaClient,
    hints: readonly string[],
    commit: boolean,
    now: number,
  ): Promise<LeaseRecord6 | undefined> {
    const key = bindingKey(c);
    const expiresAt =
      now + (commit ? pool.validLifetime * 1000 : Math.min(this.offerHoldMs, pool.validLifetime * 1000));
    const write = (ip: string): Promise<LeaseRecord6 | undefined> => {
      const w = { ip, mac: key, expiresAt, subnet: pool.prefix };
      return commit ? this.store.commit(w, now) : this.store.offer(w, now);
    };
    const own = reservationFor(pool, c.duid, c.mac);
    if (own) return this.#reserved(fromBigInt(toBigInt(own.address)), key, write, now);
    const tried = new Set<string>();
    const previous = await this.store.get(key);
    const candidates = [previous?.state !== 'declined' ? previous?.ip : undefined, ...hints];
    for (const ip of candidates) {
      if (!ip || tried.has(ip) || !this.#dynamic(pool, ip, c)) continue;
      tried.add(ip);
      const got = await write(ip);
      if (got) return got;
    }
    const size = pool.end - pool.start + 1n;
    let n = this.#next.get(pool) ?? pool.start;
    for (let i = 0; i < MAX_TRIES && BigInt(i) < size; i++) {
      const ip = fromBigInt(n);
      n = n >= pool.end ? pool.start : n + 1n;
      if (tried.has(ip) || reservedForOther(pool, ip, c.duid, c.mac)) continue;
      const got = await write(ip);
      if (got) {
        this.#next.set(pool, n);
        return got;
      }
    }
    this.#next.set(pool, n);
    return undefined;
  }

  /**
   * The client's reserved address. Only a client matching the reservation can ever hold it, so when another
   * binding has it that is this machine under an earlier IA: UEFI firmware's IPv6 stack, then its PXE client,
   * then iPXE each ask with a new IAID (iPXE with a new DUID too) and none releases first. The newest IA takes
   * the address over, as the MAC-keyed IPv4 lease would.
   */
  async #reserved(
    ip: string,
    key: string,
    write: (ip: string) => Promise<LeaseRecord6 | undefined>,
    now: number,
  ): Promise<LeaseRecord6 | undefined> {
    const got = await write(ip);
    if (got) return got;
    const holder = await this.store.getByIp(ip);
    if (!holder || holder.mac === key || holder.state === 'declined') return undefined;
    await this.store.release(holder.mac, ip, now);
    return write(ip);
  }

  /** Extends an existing binding of this IA to `ip` (Renew/Rebind); undefined when it is not this client's. */
  async extend(pool: Pool6, c: IaClient, ip: string, now: number): Promise<LeaseRecord6 | undefined> {
    const cur = await this.store.getByIp(ip);
    if (!cur || cur.mac !== bindingKey(c) || cur.state === 'declined') return undefined;
    return this.store.commit(
      { ip, mac: cur.mac, expiresAt: now + pool.validLifetime * 1000, subnet: pool.prefix },
      now,
    );
  }

  release(c: IaClient, ip: string, now: number): Promise<boolean> {
    return this.store.release(bindingKey(c), ip, now);
  }

  /** A client reports `ip` in use by someone else: quarantine it for the pool's valid lifetime. */
  async decline(pool: Pool6, ip: string, now: number): Promise<void> {
    await this.store.decline(ip, now + pool.validLifetime * 1000, pool.prefix, now);
  }

  /** The pool that holds `address`, if any. */
  poolOf(address: string): Pool6 | undefined {
    return this.pools.find((p) => poolContains(p, address));
  }

  #dynamic(pool: Pool6, ip: string, c: IaClient): boolean {
    let n: bigint;
    try {
      n = toBigInt(ip);
    } catch {
      return false;
    }
    return n >= pool.start && n <= pool.end && !reservedForOther(pool, ip, c.duid, c.mac);
  }
}
