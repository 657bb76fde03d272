import type { BootSession, BootStage } from './types.js';

export interface SessionStoreOptions {
  /** Forget a client this long after it was last seen. */
  ttlMs?: number;
  /** Most clients kept; the least recently seen is evicted first. Bounds memory per client. */
  maxSessions?: number;
  now?: () => number;
}

const MAX_FILES_PER_SESSION = 32;

/**
 * Boot sessions, one per client MAC, with an index by IP because TFTP and HTTP only see an address.
 * A Map keeps insertion order, so moving a session to the end on each touch gives an LRU for free.
 */
export class SessionStore {
  readonly #byMac = new Map<string, BootSession>();
  readonly #macByIp = new Map<string, string>();
  /** Where eviction goes on from (see #evict). */
  #lru: MapIterator<string> = this.#byMac.keys();
  #ttlMs: number;
  #max: number;
  readonly #now: () => number;

  constructor(opts: SessionStoreOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? 3_600_000;
    this.#max = opts.maxSessions ?? 50_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Changes the TTL and the bound (a config reload keeps the sessions); over the bound, the oldest go now. */
  limit(opts: Pick<SessionStoreOptions, 'ttlMs' | 'maxSessions'>): void {
    if (opts.ttlMs !== undefined) this.#ttlMs = opts.ttlMs;
    if (opts.maxSessions !== undefined) this.#max = opts.maxSessions;
    this.#evict();
  }

  get size(): number {
    return this.#byMac.size;
  }

  /** The live session of a MAC, or undefined (expired ones are dropped on read). */
  get(mac: string): BootSession | undefined {
    const s = this.#byMac.get(mac);
    if (s && this.#expired(s)) {
      this.delete(mac);
      return undefined;
    }
    return s;
  }

  /** The session of whichever client last used this IPv4 address. */
  byIp(ip: string): BootSession | undefined {
    const mac = this.#macByIp.get(ip);
    return mac === undefined ? undefined : this.get(mac);
  }

  /** Creates or updates a session; moves it to the most-recently-seen end. */
  upsert(mac: string, patch: Partial<Omit<BootSession, 'mac'>> = {}): BootSession {
    const now = this.#now();
    let s = this.get(mac);
    if (s) {
      this.#byMac.delete(mac);
    } else {
      s = { mac, labels: {}, stage: 'dhcp', firstSeen: now, lastSeen: now, bytes: 0, files: [] };
    }
    const oldIp = s.ip;
    Object.assign(s, patch, { lastSeen: now });
    this.#byMac.set(mac, s);
    if (s.ip !== undefined && s.ip !== oldIp) {
      if (oldIp !== undefined && this.#macByIp.get(oldIp) === mac) this.#macByIp.delete(oldIp);
      this.#macByIp.set(s.ip, mac);
    }
    this.#evict();
    return s;
  }

  setStage(mac: string, stage: BootStage): void {
    const s = this.get(mac);
    if (s) s.stage = stage;
  }

  /** Records a served file and its bytes against a session. */
  recordFile(s: BootSession, path: string, bytes: number): void {
    s.bytes += bytes;
    s.files.push(path);
    if (s.files.length > MAX_FILES_PER_SESSION) s.files.splice(0, s.files.length - MAX_FILES_PER_SESSION);
    s.lastSeen = this.#now();
  }

  delete(mac: string): void {
    const s = this.#byMac.get(mac);
    if (!s) return;
    this.#byMac.delete(mac);
    if (s.ip !== undefined && this.#macByIp.get(s.ip) === mac) this.#macByIp.delete(s.ip);
  }

  /** Live sessions, least recently seen first. */
  all(): BootSession[] {
    return [...this.#byMac.values()].filter((s) => !this.#expired(s));
  }

  #expired(s: BootSession): boolean {
    return this.#now() - s.lastSeen > this.#ttlMs;
  }

  /**
   * Drops the least recently seen sessions while over the bound. The cursor is kept between calls: every
   * upsert at the bound evicts one session, and a fresh `keys()` iterator would step again over every entry
   * deleted at the front since the Map was last rehashed (a boot storm of new clients: thousands per
   * call, `perf` showed it in the DHCP path). Everything before the cursor has been visited and deleted, and
   * touched sessions move to the end, so the next key it yields is the oldest live one.
   */
  #evict(): void {
    while (this.#byMac.size > this.#max) {
      let next = this.#lru.next();
      if (next.done) {
        this.#lru = this.#byMac.keys();
        next = this.#lru.next();
      }
      if (next.done) break;
      this.delete(next.value);
    }
  }
}
