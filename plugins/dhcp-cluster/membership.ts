/**
 * Which pxekit instances are alive, kept in Redis: a sorted set of instance ids scored with the time
 * of their last heartbeat. Every `heartbeatMs` each instance, in one Lua script, adds itself, removes
 * ids silent for more than `deadAfterMs`, and reads the set back. Times come from Redis (`TIME`), so
 * the instances' clocks do not need to agree. A clean shutdown removes the id at once.
 *
 * A Redis outage is not a death: the script also keeps the time of the last beat by anyone; when
 * nobody beat for more than two periods (Redis was away, or restarted), every member's score is
 * renewed before the dead are removed, so no instance decides it is alone from scores written
 * before the outage (a member that really died meanwhile ages out `deadAfterMs` later).
 *
 * `members()` is this instance's latest view; it is `undefined` (no fresh view) while the link is
 * down, until the first heartbeat after it came back (sent at once), and when Redis has not answered
 * a heartbeat for two periods.
 */
import type { Logger } from 'pino';
import { type EmitFn, type RedisLink, RedisUnavailableError } from 'pxekit/kit';

const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local renewed = 0
if last > 0 and now - last > tonumber(ARGV[5]) then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    redis.call('ZADD', KEYS[1], now, m)
    renewed = renewed + 1
  end
end
redis.call('SET', KEYS[2], now, 'PX', ARGV[3])
if ARGV[4] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], now, ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {renewed, redis.call('ZRANGE', KEYS[1], 0, -1)}
`;

interface HeartbeatCommand {
  pxeClusterHeartbeat(
    key: string,
    lastKey: string,
    id: string,
    deadAfterMs: string,
    ttlMs: string,
    leaving: string,
    gapMs: string,
  ): Promise<[number, string[]]>;
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
  readonly #lastKey: string;
  #members: string[] = [];
  #lastOk = 0;
  /** When the link last went down: a view from before it is not fresh. */
  #downAt = 0;
  readonly #onChange: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(opts: MembershipOptions) {
    this.#o = opts;
    this.id = opts.id;
    this.#key = opts.link.key('cluster', 'instances');
    this.#lastKey = opts.link.key('cluster', 'last-beat');
    opts.link.client.defineCommand('pxeClusterHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
    opts.link.onDown(() => {
      this.#downAt = Date.now();
      this.#changed();
    });
    // Back: beat at once, so the fresh view (and the others' knowledge of this instance) does not
    // wait for the next period.
    opts.link.onUp(() => this.beat());
  }

  /** The live instances (always including this one), or undefined when the view is not fresh. */
  members(now = Date.now()): readonly string[] | undefined {
    const fresh = this.#o.link.up && this.#lastOk > this.#downAt && now - this.#lastOk <= 2 * this.#o.heartbeatMs;
    return fresh ? this.#members : undefined;
  }

  /** The last view Redis gave, fresh or not. */
  lastMembers(): readonly string[] {
    return this.#members;
  }

  /** Called when the view changes or stops being fresh (the cluster re-decides ownership then). */
  onChange(fn: () => void): void {
    this.#onChange.push(fn);
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
      const [renewed, ids] = await link.run((c) =>
        (c as unknown as HeartbeatCommand).pxeClusterHeartbeat(
          this.#key,
          this.#lastKey,
          this.id,
          String(deadAfterMs),
          String(deadAfterMs * 3),
          leaving ? '1' : '0',
          String(2 * this.#o.heartbeatMs),
        ),
      );
      if (leaving) return;
      if (renewed > 0)
        this.#o.log.info(
          { event: 'cluster.gap', id: this.id, renewed },
          `no heartbeat reached Redis for a while (an outage): ${renewed} member(s) kept, not aged out`,
        );
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
      if (changed || wasStale) this.#changed();
    } catch (err) {
      this.#changed();
      if (!(err instanceof RedisUnavailableError))
        this.#o.log.error({ event: 'cluster.heartbeat.error', err, code: 'PXE_ERR_REDIS' }, 'cluster heartbeat failed');
    }
  }

  #changed(): void {
    for (const fn of this.#onChange) fn();
  }
}
