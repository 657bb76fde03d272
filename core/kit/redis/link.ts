/**
 * One Redis connection with an up/down state, for the scale-out plugins. Commands never queue while
 * Redis is away (`enableOfflineQueue: false`) and time out fast (`commandTimeoutMs`): a DHCP answer
 * must not wait on a dead store, and a queued write replayed later could duplicate a decision.
 *
 * One link per instance: `sharedRedisLink(server, …)` hands every plugin of one server that names the
 * same Redis (url and key prefix) the same link, so lease-redis, dhcp-cluster and session-redis see
 * Redis go and come back at the same moment (three links recovering at different times let new
 * clients through lease-redis while dhcp-cluster was still in fallback).
 *
 * The first command timeout marks the link down (a hung or cut Redis times every pending command out)
 * and drops the TCP connection: a fresh one is dialled at once instead of waiting for the kernel's
 * retransmission backoff on the old one, so a healed cut is noticed within about a second.
 *
 * An outage is an *episode*, an expected state rather than an error: one warning when it starts
 * (`redis.down`, code PXE_ERR_REDIS, boot event `redis.down`) and one when it ends (`redis.up` with
 * its duration and how many requests were dropped or served from local state meanwhile), never a
 * line per packet. While down, a PING probe runs every second (the socket may be "ready" while
 * commands time out); recovery listeners (`onUp`) then write back what was kept locally.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { UnavailableError } from '../../errors.js';
import type { BootEvent } from '../../hooks/server.js';
import { redactUrl, resolveRedisOptions, type RedisOptions } from './options.js';
import { raceTimer } from '../../util/race-timer.js';

/** Redis replies that mean "the server cannot serve now", not "this command is wrong". */
const OUTAGE_REPLIES = /^(OOM|READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|BUSY|NOREPLICAS|TRYAGAIN)\b/;
/** ioredis messages for "no usable connection" (closed socket, offline queue off, timeout). */
const CONNECTION_ERRORS =
  /timed out|Connection is closed|enableOfflineQueue|Stream isn't writeable|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|socket/i;
const PROBE_MS = 1000;
// ioredis (~90 ms to load) is required when the first link is made, so importing `pxekit/kit` stays
// cheap for plugins and programs that never use Redis.
const requireCjs = createRequire(import.meta.url);

export type EmitFn = (event: Omit<BootEvent, 'time'>) => void;

export interface RedisLinkOptions {
  redis: RedisOptions;
  log: Logger;
  /** `server.emit`, for the `redis.down` / `redis.up` boot events. */
  emit?: EmitFn;
  /** Who uses the link, in logs and events. */
  user: string;
}

/** Thrown by `run` while Redis is unreachable: PXE_ERR_REDIS. */
export class RedisUnavailableError extends UnavailableError {
  constructor(reason: string) {
    super('PXE_ERR_REDIS', `Redis unavailable: ${reason}`, {
      fix: 'check that Redis runs and redis.url is right; known clients are served from local state meanwhile',
    });
  }
}

/** What happened to requests during the current (or last) outage, and since start. */
export interface OutageCounts {
  /** Requests dropped because Redis was away (new clients in full mode, deferred packets). */
  dropped: number;
  /** Requests answered from local state (known clients' leases). */
  servedFromCache: number;
}

export interface RedisLinkStats extends OutageCounts {
  /** Outage episodes since start. */
  outages: number;
  /** Total time spent down, ms (the current outage included). */
  downMs: number;
}

export class RedisLink {
  readonly client: Redis;
  readonly prefix: string;
  readonly #o: RedisLinkOptions;
  readonly #users = new Set<string>();
  #up = false;
  #downSince: number | undefined = Date.now();
  #reported = false;
  #reason = 'not connected yet';
  #probe: NodeJS.Timeout | undefined;
  #closed = false;
  #starting: Promise<void> | undefined;
  /** When the connection was last dropped after a timeout (one reconnect per probe period at most). */
  #lastReconnect = 0;
  #episode: OutageCounts = { dropped: 0, servedFromCache: 0 };
  readonly #total: RedisLinkStats = { dropped: 0, servedFromCache: 0, outages: 0, downMs: 0 };
  /** Users that still hold the link (sharedRedisLink); the connection closes with the last. */
  #holders = 1;
  readonly #onUp: Array<() => Promise<void> | void> = [];
  readonly #onDown: Array<(reason: string) => void> = [];

  constructor(opts: RedisLinkOptions) {
    this.#o = opts;
    this.#users.add(opts.user);
    this.prefix = opts.redis.keyPrefix;
    const { Redis: RedisClient } = requireCjs('ioredis') as typeof import('ioredis');
    this.client = new RedisClient(opts.redis.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: opts.redis.commandTimeoutMs,
      connectTimeout: opts.redis.connectTimeoutMs,
      // Reconnect forever, at most a second apart: the instance keeps serving meanwhile, and a healed
      // cut or a restarted Redis is found within about a second.
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 4), 1000),
      connectionName: `pxekit-${opts.user}`,
    });
    this.client.on('ready', () => this.#markUp());
    this.client.on('error', (err: Error) => this.markDown(err.message));
    this.client.on('close', () => this.markDown('connection closed'));
  }

  /** True while commands are expected to work. */
  get up(): boolean {
    return this.#up;
  }

  /** True once the last user closed it. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The plugins sharing this link. */
  get users(): readonly string[] {
    return [...this.#users];
  }

  /** Since start: outages, time down, requests dropped or served from local state while down. */
  get stats(): RedisLinkStats {
    const current = this.#downSince === undefined || !this.#reported ? 0 : Date.now() - this.#downSince;
    return { ...this.#total, downMs: this.#total.downMs + current };
  }

  /** A request dropped because Redis is away (counted for the `redis.up` report and metrics). */
  noteDropped(): void {
    this.#episode.dropped++;
    this.#total.dropped++;
  }

  /** A request answered from local state because Redis is away. */
  noteServedFromCache(): void {
    this.#episode.servedFromCache++;
    this.#total.servedFromCache++;
  }

  /** `prefix` + parts joined by `:`. */
  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /** Called after every recovery (and after the first connection). Errors are logged, not thrown. */
  onUp(fn: () => Promise<void> | void): void {
    this.#onUp.push(fn);
  }

  onDown(fn: (reason: string) => void): void {
    this.#onDown.push(fn);
  }

  /**
   * Connects, waiting at most `connectTimeoutMs`; a Redis that is not there yet is reported (once)
   * and retried in the background, so the instance starts degraded rather than not at all. Users of
   * a shared link all call it; they share one attempt.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const timeout = this.#o.redis.connectTimeoutMs;
    const connected = this.client.connect().then(
      () => true,
      () => false,
    );
    const waited = await raceTimer(connected, timeout, () => false);
    if (!waited) this.markDown(`no connection within ${timeout} ms`);
  }

  /**
   * Runs commands. Throws RedisUnavailableError (without trying) while down, and marks the link down
   * when a command fails for connection reasons (timeout, socket, OOM/READONLY/LOADING replies).
   * Other Redis errors (a wrong script argument) are thrown as they are.
   */
  async run<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    if (!this.#up) throw new RedisUnavailableError(this.#reason);
    try {
      return await fn(this.client);
    } catch (err) {
      if (isOutage(err)) {
        const reason = (err as Error).message;
        // The first timeout is the outage: a hung or cut Redis times out every pending command, and
        // waiting for a second one let dozens of packets fail first. The command itself may or may
        // not have run; callers treat it as an outage for that request, which compare-and-set makes safe.
        this.markDown(reason);
        if (/timed out/i.test(reason)) this.#reconnect();
        throw new RedisUnavailableError(reason);
      }
      throw err;
    }
  }

  /** Starts (or continues) an outage episode. Public so a user can report a failure it saw itself. */
  markDown(reason: string): void {
    if (this.#closed) return;
    this.#reason = reason;
    const wasUp = this.#up;
    this.#up = false;
    this.#downSince ??= Date.now();
    if (wasUp || !this.#reported) {
      this.#reported = true;
      this.#episode = { dropped: 0, servedFromCache: 0 };
      this.#total.outages++;
      const url = redactUrl(this.#o.redis.url);
      // A warning, not an error: Redis going away is a state the cluster is built for (no stack).
      this.#o.log.warn(
        { event: 'redis.down', code: 'PXE_ERR_REDIS', url, reason, users: this.users },
        `Redis unavailable (${reason}): serving known clients from local state, new allocations refused`,
      );
      this.#o.emit?.({
        type: 'redis.down',
        protocol: 'server',
        outcome: 'error',
        plugin: this.users.join(','),
        data: { code: 'PXE_ERR_REDIS', url, reason },
      });
      for (const fn of this.#onDown) fn(reason);
    }
    this.#startProbe();
  }

  /** A second connection with the same settings (pub/sub needs its own). Caller closes it. */
  duplicate(): Redis {
    return this.client.duplicate({ lazyConnect: false, enableOfflineQueue: true, commandTimeout: undefined });
  }

  /** Another user of a shared link (sharedRedisLink). */
  hold(user: string): this {
    this.#users.add(user);
    this.#holders++;
    return this;
  }

  /** Releases this user's hold; the connection closes when the last user closes. */
  async close(): Promise<void> {
    if (--this.#holders > 0) return;
    this.#closed = true;
    clearInterval(this.#probe);
    this.#probe = undefined;
    this.client.disconnect();
  }

  /**
   * Drops the connection after a timeout and dials a new one at once: a cut or hung Redis leaves the
   * old socket waiting on TCP retransmissions (seconds to minutes) long after the path is back.
   */
  #reconnect(): void {
    const now = Date.now();
    if (this.#closed || now - this.#lastReconnect < PROBE_MS) return;
    this.#lastReconnect = now;
    this.client.disconnect(true);
  }

  #startProbe(): void {
    if (this.#probe || this.#closed) return;
    this.#probe = setInterval(() => {
      if (this.client.status !== 'ready') return;
      this.client.ping().then(
        () => this.#markUp(),
        (err: unknown) => {
          if (/timed out/i.test(String((err as Error)?.message))) this.#reconnect();
        },
      );
    }, PROBE_MS);
    this.#probe.unref();
  }

  #markUp(): void {
    if (this.#up || this.#closed) return;
    this.#up = true;
    clearInterval(this.#probe);
    this.#probe = undefined;
    const downMs = this.#downSince === undefined ? 0 : Date.now() - this.#downSince;
    this.#downSince = undefined;
    const url = redactUrl(this.#o.redis.url);
    if (this.#reported) {
      this.#total.downMs += downMs;
      const { dropped, servedFromCache } = this.#episode;
      this.#o.log.warn(
        { event: 'redis.up', url, downMs, dropped, servedFromCache, users: this.users },
        `Redis reachable again after ${downMs} ms (${dropped} request(s) dropped, ${servedFromCache} served from local state meanwhile)`,
      );
      this.#o.emit?.({
        type: 'redis.up',
        protocol: 'server',
        outcome: 'info',
        plugin: this.users.join(','),
        data: { url, downMs, dropped, servedFromCache },
      });
    } else {
      this.#o.log.info({ event: 'redis.connected', url, users: this.users }, 'Redis connected');
    }
    this.#reported = false;
    for (const fn of this.#onUp) {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) =>
          this.#o.log.error(
            { event: 'redis.recover.error', err, users: this.users, code: 'PXE_ERR_REDIS' },
            'catching up after a Redis outage failed',
          ),
        );
    }
  }
}

/** Links by owner (a server) and by Redis (url and key prefix). */
const shared = new WeakMap<object, Map<string, RedisLink>>();

/**
 * The one link of `owner` (the server) to the Redis named in `opts.redis`: created by the first
 * plugin that asks, held by the others (each closes its hold; the connection closes with the last).
 * Timeouts and other settings are the first user's.
 */
export function sharedRedisLink(owner: object, opts: RedisLinkOptions): RedisLink {
  let byRedis = shared.get(owner);
  if (!byRedis) shared.set(owner, (byRedis = new Map()));
  const key = `${opts.redis.url}\n${opts.redis.keyPrefix}`;
  const existing = byRedis.get(key);
  if (existing && !existing.closed) return existing.hold(opts.user);
  const link = new RedisLink(opts);
  byRedis.set(key, link);
  return link;
}

/**
 * The server's link for plugin `user`, from the plugin's `redis` option block (defaults filled in), with
 * `redis.down` / `redis.up` published as the server's boot events: what every Redis-backed plugin does in apply().
 */
export function pluginRedisLink(
  server: { emit: EmitFn },
  user: string,
  redis: Partial<RedisOptions> | undefined,
  log: Logger,
): RedisLink {
  return sharedRedisLink(server, { redis: resolveRedisOptions(redis), log, user, emit: (e) => server.emit(e) });
}

/** A name for this process among instances sharing Redis: host, pid and 6 random hex digits. */
export function instanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Connection-level failures: socket errors, timeouts, "cannot serve now" replies. */
export function isOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ReplyError') return OUTAGE_REPLIES.test(err.message);
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return CONNECTION_ERRORS.test(err.message) || /^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code ?? ''));
}
