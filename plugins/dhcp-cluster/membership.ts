/**
 * Which pxekit instances are alive, kept in Redis: a sorted set of instance ids scored with the time
 * of their last heartbeat. Every `heartbeatMs` each instance, in one Lua script, adds itself, removes
 * ids silent for more than `deadAfterMs`, and reads the set back. Times come from Redis (`TIME`), so
 * the instances' clocks do not need to agree. A clean shutdown removes the id at once.
 *
 * `members()` is this instance's latest view; it is `undefined` (= "do not filter, answer
 * everyone") when Redis has not answered a heartbeat for two periods.
 */
import type { Logger } from 'pino';
import { type EmitFn, type RedisLink, RedisUnavailableError } from 'pxekit/kit';

const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[4] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], now, ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

interface HeartbeatCommand {
  pxeClusterHeartbeat(key: string, id: string, deadAfterMs: string, ttlMs: string, leaving: string): Promise<string[]>;
}

export interface MembershipOptions {
  link: RedisLink;
  id: string;
  heartbeatMs: number;
  deadAfterMs: number;
  log: Logger;
  emit?: EmitFn;
}

export class Membership {
  readonly id: string;
  readonly #o: MembershipOptions;
  readonly #key: string;
  #members: string[] = [];
  #lastOk = 0;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(opts: MembershipOptions) {
    this.#o = opts;
    this.id = opts.id;
    this.#key = opts.link.key('cluster', 'instances');
    opts.link.client.defineCommand('pxeClusterHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
  }

  /** The live instances (always including this one), or undefined when the view is stale. */
  members(now = Date.now()): readonly string[] | undefined {
    return now - this.#lastOk <= 2 * this.#o.heartbeatMs ? this.#members : undefined;
  }

  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /** One heartbeat (also the test hook); never rejects. Overlapping calls share one. */
  beat(): Promise<void> {
    this.#beating ??= this.#beat(false).finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  /** Stops heart-beating and leaves the set, so the others take this instance's clients at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating;
    if (this.#o.link.up) await this.#beat(true);
  }

  async #beat(leaving: boolean): Promise<void> {
    const { link, deadAfterMs } = this.#o;
    try {
      const ids = await link.run((c) =>
        (c as unknown as HeartbeatCommand).pxeClusterHeartbeat(
          this.#key,
          this.id,
          String(deadAfterMs),
          String(deadAfterMs * 3),
          leaving ? '1' : '0',
        ),
      );
      if (leaving) return;
      const next = [...new Set([...ids, this.id])].sort();
      const changed = next.join(',') !== this.#members.join(',');
      const wasStale = this.members() === undefined;
      this.#members = next;
      this.#lastOk = Date.now();
      if (changed || wasStale) {
        this.#o.log.info(
          { event: 'cluster.members', id: this.id, members: next },
          `cluster: ${next.length} live instance(s)`,
        );
        this.#o.emit?.({
          type: 'cluster.members',
          protocol: 'server',
          outcome: 'info',
          plugin: 'dhcp-cluster',
          data: { id: this.id, members: next },
        });
      }
    } catch (err) {
      if (!(err instanceof RedisUnavailableError))
        this.#o.log.error({ event: 'cluster.heartbeat.error', err, code: 'PXE_ERR_REDIS' }, 'cluster heartbeat failed');
    }
  }
}
