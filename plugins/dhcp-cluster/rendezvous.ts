/**
 * Rendezvous (highest-random-weight) hashing: each live instance scores every client key, the highest
 * score owns it. When an instance leaves, only its clients move (each to its own second choice);
 * every instance computes the same owner from the same member list without talking to the others.
 */
import { createHash } from 'node:crypto';

/** A 48-bit score of `member` for `key` (MD5 here is a spreading function, not a security measure). */
export function score(member: string, key: string): number {
  return createHash('md5').update(member).update('\0').update(key).digest().readUIntBE(0, 6);
}

/** The owner of `key` among `members` (ties, practically impossible, go to the smaller id); undefined when empty. */
export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    const s = score(m, key);
    if (s > bestScore || (s === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}
