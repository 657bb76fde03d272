/**
 * dhcp-cluster: several pxekit instances on one segment, exactly one answers each client. The
 * instances heartbeat into Redis (membership.ts) and, optionally, to each other over UDP (peers.ts);
 * each drops, in `dhcp.receive`, the packets of clients it does not own (ownership.ts: rendezvous hash
 * of the MAC over the live instances). A dead instance ages out after `deadAfterMs` and its clients
 * hash to the others. An instance that lost Redis while a peer reaches it answers nothing; when no
 * instance reaches Redis they split the clients over the instances still heard (docs/scale-out.md).
 */
import { definePlugin, STAGE_FIRST, UnavailableError } from 'pxekit';
import {
  instanceId,
  pluginRedisLink,
  type RedisLinkStats,
  type RedisOptions,
  redisOptionsSchema,
  RedisUnavailableError,
  type WithRedisInput,
} from 'pxekit/kit';
import { Membership } from './membership.js';
import { decideOwnership, sameOwnership, waitingFor, type Ownership } from './ownership.js';
import { PeerHeartbeat, type PeerState } from './peers.js';
import { ownerOf } from './rendezvous.js';

declare module 'pxekit' {
  interface Provides {
    /** dhcp-cluster: this instance's view of the cluster and of its Redis link (status page, metrics). */
    clusterView: () => ClusterView;
  }
}

export interface PeerHeartbeatOptions {
  /** Shared secret of the HMAC (same on every instance). */
  key: string;
  port: number;
  bind: string;
  addresses: string[];
  intervalMs: number;
  deadAfterMs: number;
  maxSkewMs: number;
}

/** What this instance sees (status page, metrics, tests). */
export interface ClusterView {
  id: string;
  mode: Ownership['mode'];
  /** This instance has a fresh member view from Redis. */
  redis: boolean;
  /** The members clients are split over (empty while deferring). */
  members: string[];
  /** Joining: the peer (on Redis) that does not count this instance in yet; nothing is answered until it does. */
  waitingFor?: string;
  /** Peers heard over the peer heartbeat, and whether they reach Redis. */
  peers: Array<Pick<PeerState, 'id' | 'redis' | 'mode' | 'address'> & { ageMs: number }>;
  /**
   * The instance's one Redis link (shared with lease-redis and session-redis on the same Redis): up or
   * not, and since start the outages, time down and requests dropped or served from local state.
   */
  link: RedisLinkStats & { up: boolean };
}

export interface DhcpClusterOptions {
  redis: RedisOptions;
  /** This instance's id in the member set (default: host name, pid and a random suffix). */
  instanceId?: string;
  heartbeatMs: number;
  deadAfterMs: number;
  /** DHCP modes in which only the owner answers. */
  modes: Array<'proxy' | 'full'>;
  /** The UDP heartbeat between instances (off when absent). */
  peers?: PeerHeartbeatOptions;
}

const NAME = 'dhcp-cluster';

export default function dhcpCluster(options: WithRedisInput<DhcpClusterOptions> = {}) {
  let membership: Membership | undefined;
  let view: (() => ClusterView) | undefined;
  const plugin = definePlugin<DhcpClusterOptions>({
    name: NAME,
    options,
    provides: ['clusterView'],
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
        peers: peersSchema,
      },
    },
    apply(server, { options, log, provide }) {
      const id = options.instanceId ?? instanceId();
      const link = pluginRedisLink(server, NAME, options.redis, log);
      const m = new Membership({
        link,
        id,
        heartbeatMs: options.heartbeatMs,
        deadAfterMs: options.deadAfterMs,
        log,
        emit: (e) => server.emit(e),
      });
      membership = m;
      const po = options.peers;
      let current: Ownership | undefined;
      const decide = (now = Date.now()): Ownership => {
        const next = decideOwnership({
          id,
          redisView: m.members(now),
          peers: peers?.fresh(now) ?? [],
          peersEnabled: peers !== undefined,
          listening: peers?.listening(now) ?? false,
          lastRedisView: m.lastMembers(),
        });
        if (!current || !sameOwnership(current, next)) {
          const was = current?.mode;
          current = next;
          // A state of the cluster, not an error: info lines (the Redis link warns once per outage).
          log.info(
            {
              event: 'cluster.mode',
              id,
              mode: next.mode,
              was,
              members: next.members,
              waitingFor: waitingFor(next),
              peers: peers?.fresh(now).map((p) => p.id),
            },
            waitingFor(next)
              ? `cluster: joining, answering no client until ${waitingFor(next)} counts this instance in`
              : next.mode === 'redis'
                ? `cluster: ${next.members.length} instance(s) on Redis split the clients`
                : next.mode === 'defer'
                  ? 'cluster: no fresh view from Redis but a peer has one: answering no client'
                  : `cluster: no instance reaches Redis: ${next.members.length} instance(s) split the clients`,
          );
          server.emit({
            type: 'cluster.mode',
            protocol: 'server',
            outcome: next.mode === 'redis' ? 'info' : 'error',
            plugin: NAME,
            data: { id, mode: next.mode, members: next.members },
          });
          peers?.send();
        }
        return next;
      };
      const peers = po
        ? new PeerHeartbeat({
            ...po,
            id,
            log,
            self: () => {
              const o = current ?? decide();
              return { redis: m.members() !== undefined, mode: o.mode, members: o.members };
            },
            onChange: () => void decide(),
          })
        : undefined;
      m.onChange(() => void decide());
      view = () => {
        const now = Date.now();
        const o = decide(now);
        return {
          id,
          mode: o.mode,
          redis: m.members(now) !== undefined,
          members: o.members,
          ...(waitingFor(o) ? { waitingFor: waitingFor(o) } : {}),
          peers: (peers?.fresh(now) ?? []).map((p) => ({
            id: p.id,
            redis: p.redis,
            mode: p.mode,
            address: p.address,
            ageMs: now - p.heardAt,
          })),
          link: { up: link.up, ...link.stats },
        };
      };
      provide('clusterView', view);

      server.hooks.ready.tapPromise(NAME, async () => {
        await link.start();
        await m.start();
        await peers?.start();
        decide();
      });
      server.hooks.close.tapPromise(NAME, async () => {
        await peers?.stop();
        await m.stop();
        await link.close();
      });

      /** Why this instance must not answer `mac` now; undefined when it answers. */
      const refusal = (o: Ownership, mac: string): string | undefined => {
        if (o.mode === 'defer')
          return o.to ? `deferring to ${o.to}, which reaches Redis` : 'listening for peers before answering';
        const wait = waitingFor(o);
        if (wait) return `joining: waiting for ${wait} to count this instance in`;
        const owner = ownerOf(mac, o.members);
        return owner === undefined || owner === id ? undefined : `owned by ${owner}`;
      };
      server.dhcp.hooks.receive.tap({ name: NAME, stage: STAGE_FIRST }, (ctx) => {
        if (!options.modes.includes(ctx.mode)) return undefined;
        const o = decide();
        const why = refusal(o, ctx.packet.mac);
        if (why === undefined) return undefined;
        if (o.mode === 'defer') link.noteDropped();
        return { drop: why };
      });
      // Checked again when the answer is ready: the split may have changed while the request waited on
      // Redis — this instance lost Redis half-way (its command timed out and lease-redis answered from
      // its cache) while a peer took its clients, or a peer came back and took some. Dropped quietly
      // (an UnavailableError is a debug line and a dhcp.drop event, not an error); the owner answers.
      server.dhcp.hooks.reply.tap(NAME, (reply, ctx) => {
        if (!options.modes.includes(ctx.mode)) return reply;
        const o = decide();
        const why = refusal(o, ctx.packet.mac);
        if (why === undefined) return reply;
        if (o.mode !== 'defer')
          throw new UnavailableError('PXE_ERR_CLUSTER_HANDOVER', `the split changed while answering: ${why}`);
        link.noteDropped();
        throw new RedisUnavailableError(`lost while answering; ${why}`);
      });
    },
  });
  Object.defineProperties(plugin, {
    membership: { get: () => membership, enumerable: false },
    view: { get: () => view?.(), enumerable: false },
  });
  return plugin as typeof plugin & {
    readonly membership: Membership | undefined;
    readonly view: ClusterView | undefined;
  };
}

const peersSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'addresses'],
  description:
    'a heartbeat between the instances over UDP, without Redis (HMAC-authenticated, ' +
    'replay-protected): an instance cut from Redis defers to a peer that reaches it, and ' +
    'instances that all lost Redis split the clients',
  properties: {
    key: {
      type: 'string',
      minLength: 16,
      description: 'shared secret of the HMAC-SHA256, the same on every instance (16 characters or more)',
    },
    addresses: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^[0-9.]+(:[0-9]+)?$' },
      description:
        "where to send the heartbeat: the other instances' addresses or the LAN's broadcast address, each IPv4[:port]",
    },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 6767, description: 'UDP port of the heartbeat' },
    bind: { type: 'string', default: '0.0.0.0', description: 'address the heartbeat socket binds' },
    intervalMs: {
      type: 'integer',
      minimum: 50,
      maximum: 10_000,
      default: 250,
      description: 'how often each instance sends its heartbeat (and at once when its state changes)',
    },
    deadAfterMs: {
      type: 'integer',
      minimum: 200,
      maximum: 60_000,
      default: 2000,
      description: 'a peer not heard this long is gone (keep it at several intervalMs; a loaded host delays beats)',
    },
    maxSkewMs: {
      type: 'integer',
      minimum: 1000,
      default: 30_000,
      description:
        "a heartbeat whose timestamp differs from this host's clock by more is refused (clocks must agree this well: NTP)",
    },
  },
} as const;
