/**
 * The lease records in Redis, one method per script (scripts.ts). Every call goes through
 * `RedisLink.run`, so it throws RedisUnavailableError (PXE_ERR_REDIS) when Redis cannot answer;
 * the store above (store.ts) decides what to do then.
 */
import type { Redis } from 'ioredis';
import type { Lease, LeaseState, LeaseWrite, RedisLink } from 'pxekit/kit';
import { DECLINE, GET_BY_MAC, NEXT_FREE, RELEASE, WRITE } from './scripts.js';

interface LeaseCommands {
  pxeLeaseWrite(ipKey: string, macKey: string, ...args: string[]): Promise<string[] | null>;
  pxeLeaseRelease(ipKey: string, macKey: string, ...args: string[]): Promise<number>;
  pxeLeaseDecline(ipKey: string, ...args: string[]): Promise<number>;
  pxeLeaseGetByMac(macKey: string, ...args: string[]): Promise<string[] | null>;
  pxeLeaseNextFree(cursorKey: string, macKey: string, proposalKey: string, ...args: string[]): Promise<string | null>;
}

const STATES: readonly LeaseState[] = ['offered', 'bound', 'released', 'declined'];
/** SCAN rounds at most (each returns up to 1000 keys): bounds `list()` on a huge keyspace. */
const MAX_SCAN_ROUNDS = 10_000;
/** How long a proposed address stays this MAC's proposal (covers one DISCOVER answered by several instances). */
const PROPOSAL_MS = 5000;

export class RedisLeases {
  readonly #link: RedisLink;
  readonly #retainMs: number;
  readonly ipPrefix: string;
  readonly macPrefix: string;

  constructor(link: RedisLink, retainMs: number) {
    this.#link = link;
    this.#retainMs = retainMs;
    this.ipPrefix = link.key('lease', 'ip', '');
    this.macPrefix = link.key('lease', 'mac', '');
    // defineCommand: EVALSHA with a transparent EVAL fallback after a Redis restart (NOSCRIPT).
    const c = link.client;
    c.defineCommand('pxeLeaseWrite', { numberOfKeys: 2, lua: WRITE });
    c.defineCommand('pxeLeaseRelease', { numberOfKeys: 2, lua: RELEASE });
    c.defineCommand('pxeLeaseDecline', { numberOfKeys: 1, lua: DECLINE });
    c.defineCommand('pxeLeaseGetByMac', { numberOfKeys: 1, lua: GET_BY_MAC });
    c.defineCommand('pxeLeaseNextFree', { numberOfKeys: 3, lua: NEXT_FREE });
  }

  /** The CAS write of offer/commit; undefined when the address is someone else's. */
  async write(lease: LeaseWrite, state: 'offered' | 'bound', now: number): Promise<Lease | undefined> {
    const rec = await this.#cmd((c) =>
      c.pxeLeaseWrite(
        this.ipPrefix + lease.ip,
        this.macPrefix + lease.mac,
        lease.ip,
        lease.mac,
        state,
        String(lease.expiresAt),
        lease.subnet,
        lease.clientId ?? '',
        lease.hostname ?? '',
        String(now),
        String(this.#retainMs),
        this.ipPrefix,
        this.macPrefix,
      ),
    );
    return rec ? fromFlat(rec) : undefined;
  }

  async release(mac: string, ip: string, now: number): Promise<boolean> {
    const n = await this.#cmd((c) =>
      c.pxeLeaseRelease(this.ipPrefix + ip, this.macPrefix + mac, mac, String(now), String(this.#retainMs)),
    );
    return n === 1;
  }

  /** `notAfter`: skip when the record was written after this time (outage write-back); 0 = always. */
  async decline(ip: string, until: number, subnet: string, now: number, notAfter = 0): Promise<boolean> {
    const n = await this.#cmd((c) =>
      c.pxeLeaseDecline(
        this.ipPrefix + ip,
        ip,
        String(until),
        subnet,
        String(now),
        String(this.#retainMs),
        this.macPrefix,
        String(notAfter),
      ),
    );
    return n === 1;
  }

  async get(mac: string): Promise<Lease | undefined> {
    const rec = await this.#cmd((c) => c.pxeLeaseGetByMac(this.macPrefix + mac, mac, this.ipPrefix));
    return rec ? fromFlat(rec) : undefined;
  }

  async getByIp(ip: string): Promise<Lease | undefined> {
    const rec = await this.#link.run((c) => c.hgetall(this.ipPrefix + ip));
    return fromObject(rec);
  }

  /** A fresh address from the shared cursor of a range, or undefined (see NEXT_FREE). */
  async nextFree(
    cursorKey: string,
    mac: string,
    first: number,
    size: number,
    now: number,
    probes: number,
  ): Promise<string | undefined> {
    const ip = await this.#cmd((c) =>
      c.pxeLeaseNextFree(
        this.#link.key(cursorKey),
        this.macPrefix + mac,
        this.#link.key('lease', 'proposal', mac),
        String(first),
        String(size),
        String(now),
        this.ipPrefix,
        String(probes),
        String(PROPOSAL_MS),
      ),
    );
    return ip ?? undefined;
  }

  /** Every record, by SCAN (non-blocking for Redis) and pipelined HGETALLs. */
  async list(): Promise<Lease[]> {
    return this.#link.run(async (c) => {
      const out: Lease[] = [];
      let cursor = '0';
      for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
        const [next, keys] = await c.scan(cursor, 'MATCH', `${escapeGlob(this.ipPrefix)}*`, 'COUNT', 1000);
        if (keys.length) {
          const p = c.pipeline();
          for (const k of keys) p.hgetall(k);
          for (const [err, rec] of (await p.exec()) ?? []) {
            const lease = err ? undefined : fromObject(rec as Record<string, string>);
            if (lease) out.push(lease);
          }
        }
        cursor = next;
        if (cursor === '0') break;
      }
      return out;
    });
  }

  #cmd<T>(fn: (c: Redis & LeaseCommands) => Promise<T>): Promise<T> {
    return this.#link.run((c) => fn(c as Redis & LeaseCommands));
  }
}

function fromFlat(flat: string[]): Lease | undefined {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
  return fromObject(o);
}

/** A record as stored, or undefined when it is missing or malformed (never trusted blindly). */
export function fromObject(o: Record<string, string>): Lease | undefined {
  const state = o['state'] as LeaseState | undefined;
  const expiresAt = Number(o['expiresAt']);
  const updatedAt = Number(o['updatedAt']);
  if (!o['ip'] || o['mac'] === undefined || !state || !STATES.includes(state) || !Number.isFinite(expiresAt))
    return undefined;
  return {
    ip: o['ip'],
    mac: o['mac'],
    state,
    expiresAt,
    subnet: o['subnet'] ?? '',
    ...(o['clientId'] ? { clientId: o['clientId'] } : {}),
    ...(o['hostname'] ? { hostname: o['hostname'] } : {}),
    updatedAt: Number.isFinite(updatedAt) ? updatedAt : 0,
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
