/**
 * lease-redis: full-mode DHCP leases in Redis, shared by every pxekit instance that uses the same
 * Redis and key prefix. See README.md and docs/scale-out.md.
 */
import { definePlugin } from 'pxekit';
import {
  buildPools,
  getOption,
  type Pool,
  pluginRedisLink,
  type RedisOptions,
  redisOptionsSchema,
  serverId,
  setOption,
  type WithRedisInput,
} from 'pxekit/kit';
import { NextFree } from './next-free.js';
import { RedisLeaseStore } from './store.js';

export interface LeaseRedisOptions {
  redis: RedisOptions;
  /** Seconds an expired or released record stays readable (the client gets its address back). */
  retainSeconds: number;
  /** Most lease records kept locally for outages. */
  maxCached: number;
  /** Propose fresh addresses from a shared per-pool cursor (fewer collisions between instances). */
  sharedCursor: boolean;
  /** Renewals during a Redis outage: full lease time, written back later, or only up to the expiry Redis confirmed. */
  outageRenewal: 'extend' | 'confirmed';
}

const NAME = 'lease-redis';

export default function leaseRedis(options: WithRedisInput<LeaseRedisOptions> = {}) {
  let store: RedisLeaseStore | undefined;
  const plugin = definePlugin<LeaseRedisOptions>({
    name: NAME,
    options,
    provides: ['leaseStore'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        redis: redisOptionsSchema,
        retainSeconds: {
          type: 'integer',
          minimum: 0,
          default: 86_400,
          description:
            'how long an expired or released lease record stays in Redis, so a returning client gets its old address',
        },
        maxCached: {
          type: 'integer',
          minimum: 1,
          default: 100_000,
          description: 'most lease records this instance keeps locally to serve known clients during a Redis outage',
        },
        outageRenewal: {
          enum: ['extend', 'confirmed'],
          default: 'extend',
          description:
            'renewals while Redis is down: extend = the pool lease time, written back when Redis ' +
            'returns (a partition longer than the remaining lease can conflict); confirmed = only up ' +
            'to the expiry Redis confirmed (partition-safe, clients renew more often)',
        },
        sharedCursor: {
          type: 'boolean',
          default: true,
          description:
            'propose new addresses from a per-pool cursor in Redis, so instances do not all try the same free address',
        },
      },
    },
    apply(server, { options, log, config, provide }) {
      if (config.dhcp.mode !== 'full' && config.dhcp6.mode !== 'full') {
        log.warn(
          { event: 'lease-redis.unused', mode: config.dhcp.mode, mode6: config.dhcp6.mode },
          'lease-redis does nothing unless dhcp.mode or dhcp6.mode is full',
        );
        return;
      }
      const link = pluginRedisLink(server, NAME, options.redis, log);
      const pools = safePools(config.dhcp.mode === 'full' ? config.dhcp.pools : []);
      const reserved = (mac: string, ip: string) => pools.some((p) => p.reservations.get(mac)?.ip === ip);
      const s = new RedisLeaseStore({
        link,
        log,
        retainMs: options.retainSeconds * 1000,
        maxCached: options.maxCached,
        reserved,
        outageRenewal: options.outageRenewal,
        emit: (e) => server.emit(e),
      });
      store = s;
      provide('leaseStore', s);

      server.hooks.ready.tapPromise(NAME, () => link.start());
      server.hooks.close.tapPromise(NAME, () => link.close());

      if (options.sharedCursor) {
        const own = config.dhcp.serverAddress ? [config.dhcp.serverAddress] : [];
        const next = new NextFree({ pools, excluded: own, redis: s.redis, link });
        server.dhcp.hooks.selectLease.tapPromise(NAME, (sel) => next.propose(sel));
      }

      // RFC 2131 §4.3.2 lets a server that sees a REQUEST for *another* server release its own hold
      // (core/dhcp/full.ts). With a shared store that hold may be the very record the chosen instance
      // is binding at this moment (get → other instance commits → release): the release would free a
      // lease just ACKed. So in full mode such REQUESTs stop here; a superseded hold expires by itself.
      server.dhcp.hooks.receive.tap(NAME, (ctx) => {
        if (ctx.mode !== 'full' || ctx.messageType !== 3) return undefined;
        const chosen = serverId(ctx.packet);
        const sid = config.dhcp.serverAddress ?? ctx.local.address;
        return chosen !== undefined && sid !== undefined && chosen !== sid
          ? { drop: `REQUEST for server ${chosen}: left to it (shared lease store)` }
          : undefined;
      });

      // An ACK granted from the cache during an outage announces the lease time actually granted
      // (options 51/58/59, RFC 2131 §4.4.5 T1 = 50 %, T2 = 87.5 %), not the pool's.
      server.dhcp.hooks.reply.tap(NAME, (reply) => {
        if (reply.yiaddr === '0.0.0.0' || getOption(reply, 53) !== 5) return reply;
        const until = s.takeOutageGrant(reply.yiaddr);
        if (until === undefined) return reply;
        // Rounded: the grant was computed milliseconds ago; flooring turned a 3600 s grant into 3599.
        const secs = Math.max(1, Math.round((until - Date.now()) / 1000));
        setOption(reply, 51, secs);
        setOption(reply, 58, Math.floor(secs / 2));
        setOption(reply, 59, Math.floor((secs * 7) / 8));
        return reply;
      });

      // While Redis is down, a client we hold no live lease for cannot be answered safely: drop its
      // DISCOVER/REQUEST here, quietly (debug line + dhcp.drop event), instead of failing in the store.
      server.dhcp.hooks.receive.tap(NAME, (ctx) => {
        // DISCOVER and REQUEST (a rebinding client this instance never served) alike.
        if (link.up || ctx.mode !== 'full' || (ctx.messageType !== 1 && ctx.messageType !== 3)) return undefined;
        const mac = ctx.packet.mac;
        const known = s.cache.byMac(mac);
        if (known && known.state !== 'declined' && known.confirmedUntil > Date.now()) return undefined;
        if (pools.some((p) => p.reservations.has(mac))) return undefined;
        link.noteDropped();
        return {
          drop:
            'Redis is down (PXE_ERR_REDIS): this instance knows no live lease of this client, and ' +
            'hands out no new address until Redis is back',
        };
      });
    },
  });
  Object.defineProperty(plugin, 'store', { get: () => store, enumerable: false });
  return plugin as typeof plugin & { readonly store: RedisLeaseStore | undefined };
}

/** The pools as the core will build them; a bad pool is the core's error to report, not ours. */
function safePools(pools: Parameters<typeof buildPools>[0]): Pool[] {
  try {
    return buildPools(pools);
  } catch {
    return [];
  }
}
