/**
 * dhcp-cluster: several pxekit instances on one segment, exactly one answers each client. The
 * instances heartbeat into Redis (membership.ts); each drops, in `dhcp.receive`, the packets of
 * clients whose MAC hashes (rendezvous.ts) to another live instance. A dead instance ages out after
 * `deadAfterMs` and its clients hash to the others. Without a fresh view of the members (Redis
 * down), every instance answers everyone: two answers are better than none (a PXE client takes the
 * first offer; full-mode leases stay safe through lease-redis's compare-and-set).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { definePlugin, STAGE_FIRST } from 'pxekit';
import { RedisLink, type RedisOptions, redisOptionsSchema, resolveRedisOptions, type WithRedisInput } from 'pxekit/kit';
import { Membership } from './membership.js';
import { ownerOf } from './rendezvous.js';

export interface DhcpClusterOptions {
  redis: RedisOptions;
  /** This instance's id in the member set (default: host name, pid and a random suffix). */
  instanceId?: string;
  heartbeatMs: number;
  deadAfterMs: number;
  /** DHCP modes in which only the owner answers. */
  modes: Array<'proxy' | 'full'>;
}

const NAME = 'dhcp-cluster';

export default function dhcpCluster(options: WithRedisInput<DhcpClusterOptions> = {}) {
  let membership: Membership | undefined;
  const plugin = definePlugin<DhcpClusterOptions>({
    name: NAME,
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        redis: redisOptionsSchema,
        instanceId: {
          type: 'string',
          minLength: 1,
          maxLength: 200,
          description:
            "this instance's id among the live instances (default: host name, pid and a random suffix, so a restart is a new member)",
        },
        heartbeatMs: {
          type: 'integer',
          minimum: 100,
          maximum: 60_000,
          default: 1000,
          description: 'how often each instance refreshes its heartbeat and its view of the live instances',
        },
        deadAfterMs: {
          type: 'integer',
          minimum: 300,
          maximum: 600_000,
          default: 3000,
          description:
            'an instance silent this long is dead: its clients go to the others (keep it at 3x heartbeatMs or more)',
        },
        modes: {
          type: 'array',
          items: { enum: ['proxy', 'full'] },
          uniqueItems: true,
          default: ['proxy', 'full'],
          description:
            'DHCP modes in which only the owning instance answers a client (ProxyDHCP on 67 and 4011, and/or full mode)',
        },
      },
    },
    apply(server, { options, log }) {
      const id = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
      const link = new RedisLink({
        redis: resolveRedisOptions(options.redis),
        log,
        user: NAME,
        emit: (e) => server.emit(e),
      });
      const m = new Membership({
        link,
        id,
        heartbeatMs: options.heartbeatMs,
        deadAfterMs: options.deadAfterMs,
        log,
        emit: (e) => server.emit(e),
      });
      membership = m;
      let fallback = false;

      server.hooks.ready.tapPromise(NAME, async () => {
        await link.start();
        await m.start();
      });
      server.hooks.close.tapPromise(NAME, async () => {
        await m.stop();
        await link.close();
      });

      server.dhcp.hooks.receive.tap({ name: NAME, stage: STAGE_FIRST }, (ctx) => {
        if (!options.modes.includes(ctx.mode)) return undefined;
        const members = m.members();
        if (!members) {
          if (!fallback) {
            fallback = true;
            log.warn(
              { event: 'cluster.fallback', id, code: 'PXE_ERR_REDIS' },
              'no fresh view of the live instances (Redis unreachable): answering every client until it is back',
            );
          }
          return undefined;
        }
        if (fallback) {
          fallback = false;
          log.info(
            { event: 'cluster.restored', id, members },
            'live instances known again: answering only owned clients',
          );
        }
        const owner = ownerOf(ctx.packet.mac, members);
        return owner === undefined || owner === id ? undefined : { drop: `owned by ${owner}` };
      });
    },
  });
  Object.defineProperty(plugin, 'membership', { get: () => membership, enumerable: false });
  return plugin as typeof plugin & { readonly membership: Membership | undefined };
}
