/**
 * session-redis: boot sessions and boot intents shared by every pxekit instance on the same Redis and
 * key prefix, so a boot that starts on one instance may continue on another (session-sync.ts), and a
 * one-shot or "never" mark set or used anywhere holds everywhere (intent-sync.ts).
 */
import { definePlugin } from 'pxekit';
import { instanceId, pluginRedisLink, type RedisOptions, redisOptionsSchema, type WithRedisInput } from 'pxekit/kit';
import { IntentSync } from './intent-sync.js';
import { SessionSync } from './session-sync.js';

export interface SessionRedisOptions {
  redis: RedisOptions;
  /** Sessions kept in Redis this long after their last DHCP step (default: sessions.ttlSeconds). */
  ttlSeconds?: number;
  /** Share boot intents too (needs the boot-intents plugin; ignored without it). */
  intents: boolean;
  /** How often local intent changes (CLI edits, used one-shots) are pushed, ms. */
  intentPollMs: number;
  /** Most sessions waiting to be written at once. */
  maxPending: number;
}

const NAME = 'session-redis';

export default function sessionRedis(options: WithRedisInput<SessionRedisOptions> = {}) {
  let sessionSync: SessionSync | undefined;
  let intentSync: IntentSync | undefined;
  const plugin = definePlugin<SessionRedisOptions>({
    name: NAME,
    options,
    // Shares boot-intents' store (`intents`) when that plugin is configured.
    optionalDependencies: ['boot-intents'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        redis: redisOptionsSchema,
        ttlSeconds: {
          type: 'integer',
          minimum: 1,
          description: 'how long a session stays in Redis after its last DHCP step (default: sessions.ttlSeconds)',
        },
        intents: {
          type: 'boolean',
          default: true,
          description: 'share boot intents (one-shot / never) through Redis; needs the boot-intents plugin',
        },
        intentPollMs: {
          type: 'integer',
          minimum: 100,
          default: 1000,
          description:
            'how often local intent changes (pxekit intent edits, used one-shots) are pushed to the others, ms',
        },
        maxPending: {
          type: 'integer',
          minimum: 1,
          default: 10_000,
          description: 'most session updates waiting to be written; beyond, updates are dropped and counted',
        },
      },
    },
    apply(server, { options, log, config, use }) {
      const id = instanceId();
      const link = pluginRedisLink(server, NAME, options.redis, log);
      const ss = new SessionSync({
        link,
        sessions: server.sessions,
        instanceId: id,
        ttlMs: (options.ttlSeconds ?? config.sessions.ttlSeconds) * 1000,
        maxPending: options.maxPending,
        log,
      });
      sessionSync = ss;

      server.hooks.ready.tapPromise(NAME, async () => {
        await link.start();
        await ss.start();
      });
      // After every plugin's `ready`: boot-intents has loaded its file by then.
      server.hooks.listening.tapPromise(NAME, async () => {
        if (!options.intents) return;
        const intents = use('intents', { optional: true });
        if (!intents) {
          log.warn(
            { event: 'session-redis.intents.missing' },
            'intents: true but the boot-intents plugin is not configured: boot intents are not shared',
          );
          return;
        }
        intentSync = new IntentSync({ link, intents, instanceId: id, log });
        await intentSync.start(options.intentPollMs);
      });
      server.hooks.bootEvent.tap(NAME, (e) => ss.onEvent(e));
      server.hooks.close.tapPromise(NAME, async () => {
        await intentSync?.stop();
        await ss.stop();
        await link.close();
      });
    },
  });
  Object.defineProperties(plugin, {
    sessionSync: { get: () => sessionSync, enumerable: false },
    intentSync: { get: () => intentSync, enumerable: false },
  });
  return plugin as typeof plugin & {
    readonly sessionSync: SessionSync | undefined;
    readonly intentSync: IntentSync | undefined;
  };
}
