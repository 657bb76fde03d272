/**
 * Boot intents (one-shot / never, the boot-intents plugin's store) shared between instances through a Redis
 * hash `<p>intents` (MAC → state) and the channel `<p>intents`. Each instance keeps its own
 * IntentStore (and file), and:
 * - every `pollMs` compares its intents with what it last synced and pushes the differences (so
 *   `pxekit intent` edits and used one-shots reach the others);
 * - applies what the others publish: `once`/`never` → set, `done` → the one-shot is used
 *   (markBooted), removed → clear;
 * - at start and after an outage: Redis wins for every MAC it has, local-only marks are pushed.
 * A one-shot used on one instance is `done` on the others within milliseconds (pub/sub), so a
 * machine's next DHCP request, wherever it lands, boots from disk.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IntentState, IntentStore } from 'pxekit/plugins/boot-intents';
import { type RedisLink, RedisUnavailableError } from 'pxekit/kit';

interface Change {
  from: string;
  mac: string;
  /** Undefined = the mark was removed. */
  state?: IntentState;
}

const STATES: readonly IntentState[] = ['once', 'never', 'done'];

export class IntentSync {
  readonly #link: RedisLink;
  readonly #intents: IntentStore;
  readonly #id: string;
  readonly #log: Logger;
  readonly #hash: string;
  /** MAC → state as last synced (pushed or applied). */
  readonly #synced = new Map<string, IntentState>();
  #timer: NodeJS.Timeout | undefined;
  #sub: Redis | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #reconciled = false;

  constructor(opts: { link: RedisLink; intents: IntentStore; instanceId: string; log: Logger }) {
    this.#link = opts.link;
    this.#intents = opts.intents;
    this.#id = opts.instanceId;
    this.#log = opts.log;
    this.#hash = opts.link.key('intents');
    opts.link.onUp(() => this.reconcile());
  }

  async start(pollMs: number): Promise<void> {
    const sub = this.#link.duplicate();
    this.#sub = sub;
    sub.on('error', () => undefined);
    sub.on('message', (_ch: string, msg: string) => void this.#serial(() => this.#receive(msg)));
    // Subscribed again on every reconnect and recovery (see session-sync.ts), then reconciled:
    // changes published while this subscriber was away are not replayed.
    const subscribe = () =>
      void sub
        .subscribe(this.#hash)
        .then(async () => {
          if (this.#reconciled) await this.reconcile();
        })
        .catch(() => undefined);
    sub.on('ready', subscribe);
    this.#link.onUp(subscribe);
    subscribe();
    await this.reconcile();
    this.#timer = setInterval(() => void this.push(), pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.push();
    this.#sub?.disconnect();
  }

  /**
   * At start: Redis wins for every MAC it has (this instance's file may be stale), local-only marks
   * are pushed. After an outage: changes made here meanwhile are pushed first, then Redis is applied
   * (including marks cleared elsewhere meanwhile).
   */
  reconcile(): Promise<void> {
    return this.#serial(async () => {
      const first = !this.#reconciled;
      if (!first) await this.#pushChanges();
      let remote: Record<string, string>;
      try {
        remote = await this.#link.run((c) => c.hgetall(this.#hash));
      } catch (err) {
        if (err instanceof RedisUnavailableError) return;
        throw err;
      }
      for (const [mac, state] of Object.entries(remote))
        if (STATES.includes(state as IntentState)) await this.#apply(mac, state as IntentState);
      if (!first) for (const mac of [...this.#synced.keys()]) if (!(mac in remote)) await this.#apply(mac, undefined);
      if (first) await this.#pushChanges();
      this.#reconciled = true;
    });
  }

  /** Pushes local changes since the last sync. */
  push(): Promise<void> {
    // Before the first reconcile, the local file may be stale: it must not overwrite Redis.
    return this.#serial(async () => {
      if (this.#reconciled) await this.#pushChanges();
    });
  }

  async #pushChanges(): Promise<void> {
    const now = new Map(this.#intents.list().map((i) => [i.mac, i.state]));
    const changes: Change[] = [];
    for (const [mac, state] of now) if (this.#synced.get(mac) !== state) changes.push({ from: this.#id, mac, state });
    for (const mac of this.#synced.keys()) if (!now.has(mac)) changes.push({ from: this.#id, mac });
    if (!changes.length) return;
    try {
      await this.#link.run(async (c) => {
        const p = c.pipeline();
        for (const ch of changes) {
          if (ch.state) p.hset(this.#hash, ch.mac, ch.state);
          else p.hdel(this.#hash, ch.mac);
          p.publish(this.#hash, JSON.stringify(ch));
        }
        await p.exec();
      });
    } catch (err) {
      if (err instanceof RedisUnavailableError) return; // pushed at the next poll after recovery
      throw err;
    }
    for (const ch of changes) {
      if (ch.state) this.#synced.set(ch.mac, ch.state);
      else this.#synced.delete(ch.mac);
    }
    this.#log.info(
      { event: 'session-redis.intents.pushed', changes: changes.map((c) => `${c.mac}=${c.state ?? 'cleared'}`) },
      `shared ${changes.length} boot intent change(s)`,
    );
  }

  async #receive(msg: string): Promise<void> {
    let ch: Change;
    try {
      ch = JSON.parse(msg) as Change;
    } catch {
      return;
    }
    if (!ch || ch.from === this.#id || typeof ch.mac !== 'string') return;
    if (ch.state !== undefined && !STATES.includes(ch.state)) return;
    await this.#apply(ch.mac, ch.state);
  }

  /** Makes the local mark of `mac` equal `state` (undefined = none) and records it as synced. */
  async #apply(mac: string, state: IntentState | undefined): Promise<void> {
    const cur = this.#intents.get(mac)?.state;
    try {
      if (cur !== state) {
        if (state === undefined) await this.#intents.clear(mac);
        else if (state === 'done') {
          if (cur !== 'once') await this.#intents.set(mac, 'once');
          await this.#intents.markBooted(mac);
        } else await this.#intents.set(mac, state);
        this.#log.info(
          { event: 'session-redis.intent.applied', mac, state: state ?? 'cleared', was: cur ?? 'none' },
          'boot intent changed on another instance',
        );
      }
      if (state === undefined) this.#synced.delete(mac);
      else this.#synced.set(mac, state);
    } catch (err) {
      this.#log.error(
        { event: 'session-redis.intent.error', err, mac, code: 'PXE_ERR_INTENT_STORE' },
        'could not apply a boot intent from another instance',
      );
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch((err: unknown) =>
      this.#log.error({ event: 'session-redis.intent.error', err }, 'boot intent sync failed'),
    );
    return run;
  }
}
