/**
 * One Redis connection with an up/down state, for the scale-out plugins. Commands never queue while
 * Redis is away (`enableOfflineQueue: false`) and time out fast (`commandTimeoutMs`): a DHCP answer
 * must not wait on a dead store, and a queued write replayed later could duplicate a decision.
 * An outage is an *episode*: reported once when it starts (error log `redis.down`, code
 * PXE_ERR_REDIS, boot event `redis.down`) and once when it ends (`redis.up` with its duration), not
 * once per failed command. While down, a PING probe runs every second (the socket may be "ready"
 * while commands time out); recovery listeners (`onUp`) then write back what was kept locally.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { PxeError } from '../../errors.js';
import type { BootEvent } from '../../hooks/server.js';
import { redactUrl, type RedisOptions } from './options.js';

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
export class RedisUnavailableError extends PxeError {
  constructor(reason: string) {
    super('PXE_ERR_REDIS', `Redis unavailable: ${reason}`, {
      fix: 'check that Redis runs and redis.url is right; known clients are served from local state meanwhile',
    });
  }
}

export class RedisLink {
  readonly client: Redis;
  readonly prefix: string;
  readonly #o: RedisLinkOptions;
  #up = false;
  #downSince: number | undefined = Date.now();
  #reported = false;
  #reason = 'not connected yet';
  #probe: NodeJS.Timeout | undefined;
  #closed = false;
  /** Consecutive command timeouts. */
  #timeouts = 0;
  readonly #onUp: Array<() => Promise<void> | void> = [];
  readonly #onDown: Array<(reason: string) => void> = [];

  constructor(opts: RedisLinkOptions) {
    this.#o = opts;
    this.prefix = opts.redis.keyPrefix;
    const { Redis: RedisClient } = requireCjs('ioredis') as typeof import('ioredis');
    this.client = new RedisClient(opts.redis.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: opts.redis.commandTimeoutMs,
      connectTimeout: opts.redis.connectTimeoutMs,
      // Reconnect forever, at most every 2 s: the instance keeps serving meanwhile.
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
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
   * and retried in the background, so the instance starts degraded rather than not at all.
   */
  async start(): Promise<void> {
    const timeout = this.#o.redis.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const connected = this.client.connect().then(
      () => true,
      () => false,
    );
    const waited = await Promise.race([
      connected,
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), timeout);
      }),
    ]);
    clearTimeout(timer);
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
      const result = await fn(this.client);
      this.#timeouts = 0;
      return result;
    } catch (err) {
      if (isOutage(err)) {
        const reason = (err as Error).message;
        // One slow reply on a busy host is not an outage; two in a row (a hung Redis) are. The
        // command that timed out fails either way (it may or may not have run: callers treat it
        // like an outage for that one request, which the compare-and-set makes safe).
        if (!/timed out/i.test(reason) || ++this.#timeouts >= 2) this.markDown(reason);
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
      const url = redactUrl(this.#o.redis.url);
      this.#o.log.error(
        { event: 'redis.down', code: 'PXE_ERR_REDIS', url, reason, user: this.#o.user },
        `Redis unavailable (${reason}): serving known clients from local state, new allocations refused`,
      );
      this.#o.emit?.({
        type: 'redis.down',
        protocol: 'server',
        outcome: 'error',
        plugin: this.#o.user,
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

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#probe);
    this.#probe = undefined;
    this.client.disconnect();
  }

  #startProbe(): void {
    if (this.#probe || this.#closed) return;
    this.#probe = setInterval(() => {
      if (this.client.status !== 'ready') return;
      this.client.ping().then(
        () => this.#markUp(),
        () => undefined,
      );
    }, PROBE_MS);
    this.#probe.unref();
  }

  #markUp(): void {
    if (this.#up || this.#closed) return;
    this.#up = true;
    this.#timeouts = 0;
    clearInterval(this.#probe);
    this.#probe = undefined;
    const downMs = this.#downSince === undefined ? 0 : Date.now() - this.#downSince;
    this.#downSince = undefined;
    if (this.#reported) {
      const url = redactUrl(this.#o.redis.url);
      this.#o.log.info(
        { event: 'redis.up', url, downMs, user: this.#o.user },
        `Redis reachable again after ${downMs} ms`,
      );
      this.#o.emit?.({
        type: 'redis.up',
        protocol: 'server',
        outcome: 'info',
        plugin: this.#o.user,
        data: { url, downMs },
      });
    } else {
      this.#o.log.info(
        { event: 'redis.connected', url: redactUrl(this.#o.redis.url), user: this.#o.user },
        'Redis connected',
      );
    }
    this.#reported = false;
    for (const fn of this.#onUp) {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) =>
          this.#o.log.error(
            { event: 'redis.recover.error', err, user: this.#o.user, code: 'PXE_ERR_REDIS' },
            'catching up after a Redis outage failed',
          ),
        );
    }
  }
}

/** Connection-level failures: socket errors, timeouts, "cannot serve now" replies. */
export function isOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ReplyError') return OUTAGE_REPLIES.test(err.message);
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return CONNECTION_ERRORS.test(err.message) || /^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code ?? ''));
}
