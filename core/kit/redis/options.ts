/**
 * The Redis connection settings shared by the scale-out plugins (lease-redis, session-redis,
 * proxy-cluster). The core config has no `redis` key: each plugin takes `redis: { url, keyPrefix }`
 * in its options, and a YAML anchor (`redis: &redis {...}` then `redis: *redis`) keeps them equal.
 * docs/scale-out.md shows the pattern.
 */

export interface RedisOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Prefix of every key and channel, so several pxekit clusters can share one Redis. */
  keyPrefix: string;
  /** How long to wait for the first connection at start before going on degraded (ms). */
  connectTimeoutMs: number;
  /** A command slower than this counts as a Redis failure (ms): DHCP must not wait on a hung store. */
  commandTimeoutMs: number;
}

export const REDIS_DEFAULTS: RedisOptions = {
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'pxekit:',
  connectTimeoutMs: 1500,
  commandTimeoutMs: 1000,
};

/** JSON Schema of the `redis` option, embedded in each plugin's optionsSchema. */
export const redisOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'the shared Redis (same value in every scale-out plugin; use a YAML anchor)',
  properties: {
    url: {
      type: 'string',
      pattern: '^rediss?://',
      default: REDIS_DEFAULTS.url,
      description: 'redis:// or rediss:// URL, with password and db number if needed',
    },
    keyPrefix: {
      type: 'string',
      default: REDIS_DEFAULTS.keyPrefix,
      description: 'prefix of every key and channel (one per pxekit cluster)',
    },
    connectTimeoutMs: {
      type: 'integer',
      minimum: 100,
      default: REDIS_DEFAULTS.connectTimeoutMs,
      description:
        'wait this long for Redis at start, then start degraded and keep retrying (keep it under hooks.timeoutMs)',
    },
    commandTimeoutMs: {
      type: 'integer',
      minimum: 20,
      default: REDIS_DEFAULTS.commandTimeoutMs,
      description:
        'a command slower than this fails (two in a row count as a Redis outage); DHCP clients wait about 4 s for an answer',
    },
  },
  default: {},
} as const;

/** Options with defaults filled (ajv fills them for plugin options; programs may pass partial ones). */
export function resolveRedisOptions(o: Partial<RedisOptions> | undefined): RedisOptions {
  return { ...REDIS_DEFAULTS, ...(o ?? {}) };
}

/** The URL without its password, for logs and events. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}

/** A plugin factory's input: every option optional, and `redis` given partly (ajv fills the rest). */
export type WithRedisInput<O extends { redis: RedisOptions }> = Partial<Omit<O, 'redis'>> & {
  redis?: Partial<RedisOptions>;
};
