/**
 * Who answers, decided by each instance from what it knows, so that every instance that knows the
 * same things decides the same way (docs/scale-out.md, "What happens when …"):
 *
 * - **redis**: a fresh member view from Redis. Peers that say over the peer heartbeat that they lost
 *   Redis and defer are taken out of it at once (a peer still in fallback keeps its share until it
 *   hears this instance and defers), peers that say they are back on Redis are put in at once (Redis's
 *   view shows them at this instance's next beat). Clients are split by rendezvous hash over that set.
 *   An instance answers only once every peer on Redis counts it in (their beats list it among their
 *   members): joining after a start or a healed cut waits for the
 *   instances that answered its clients meanwhile to let go of them (`waitingFor`, one beat's round
 *   trip), so a client is never answered by both during the handover.
 * - **defer**: no fresh view from Redis, but a live peer has one: answer nothing, that peer (with the
 *   others on Redis) owns every client. An instance cut from Redis never answers next to one that is not.
 * - **fallback**: no instance heard reaches Redis: split by the same hash over this instance and the
 *   peers heard (with no peer heartbeat configured: over the last view Redis gave), so each client
 *   still has one answerer. Known clients are answered from local state (lease-redis).
 */
import { MAX_MEMBERS, type ClusterMode, type PeerState } from './peers.js';

export interface OwnershipInput {
  id: string;
  /** Redis's member view, or undefined when not fresh. */
  redisView: readonly string[] | undefined;
  /** Peers heard recently over the peer heartbeat (empty without it). */
  peers: readonly Pick<PeerState, 'id' | 'redis' | 'mode' | 'members'>[];
  /** True when the peer heartbeat is configured. */
  peersEnabled: boolean;
  /** True while peers may exist that were not heard yet (just started): fallback waits. */
  listening: boolean;
  /** The last fresh view Redis gave (for fallback without the peer heartbeat). */
  lastRedisView: readonly string[];
}

export type Ownership =
  | { mode: 'redis'; members: string[]; waitingFor?: string }
  | { mode: 'fallback'; members: string[] }
  | { mode: 'defer'; to: string | undefined; members: [] };

export function decideOwnership(i: OwnershipInput): Ownership {
  if (i.redisView) {
    const set = new Set(i.redisView);
    for (const p of i.peers) {
      // A peer without Redis that still answers its share (fallback: Redis was down for all and it
      // has not heard yet that this instance is back) keeps that share until it defers: taking its
      // clients at once would answer them twice for a beat.
      if (p.redis || p.mode === 'fallback') set.add(p.id);
      else set.delete(p.id);
    }
    set.add(i.id);
    const members = [...set].sort();
    // A peer's member list is cut at MAX_MEMBERS in its beat: a longer one cannot be checked.
    const notYet = i.peers.filter((p) => p.redis && p.members.length < MAX_MEMBERS && !p.members.includes(i.id));
    if (notYet.length) return { mode: 'redis', members, waitingFor: notYet.map((p) => p.id).sort()[0]! };
    return { mode: 'redis', members };
  }
  const onRedis = i.peers.filter((p) => p.redis).map((p) => p.id);
  if (onRedis.length) return { mode: 'defer', to: onRedis.sort()[0], members: [] };
  if (i.peersEnabled) {
    if (i.listening) return { mode: 'defer', to: undefined, members: [] };
    return { mode: 'fallback', members: [...new Set([i.id, ...i.peers.map((p) => p.id)])].sort() };
  }
  return { mode: 'fallback', members: [...new Set([i.id, ...i.lastRedisView])].sort() };
}

export function sameOwnership(a: Ownership, b: Ownership): boolean {
  return a.mode === b.mode && a.members.join(',') === b.members.join(',') && waitingFor(a) === waitingFor(b);
}

/** The peer this instance waits for before answering (joining), if any. */
export function waitingFor(o: Ownership): string | undefined {
  return o.mode === 'redis' ? o.waitingFor : undefined;
}

export type { ClusterMode };
