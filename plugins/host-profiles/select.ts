import type { BootSession } from 'pxekit';
import { globMatch, parseMacPattern } from 'pxekit/kit';

/**
 * A group's selector, matchbox style: every key must match; more matched keys = more specific.
 * Known keys compare with session fields; any other key is a session label. Strings are globs.
 */
export type Selector = Record<string, string | number | Array<string | number>>;

export interface Group {
  name: string;
  selector: Selector;
  profile: string;
}

type Field = 'mac' | 'arch' | 'archName' | 'firmware' | 'vendorClass' | 'userClass' | 'guid' | 'hostname';

/** Checks a selector's syntax (bad MAC patterns); returns problems as text. */
export function selectorProblems(group: Group): string[] {
  const out: string[] = [];
  for (const v of values(group.selector['mac'])) {
    const p = parseMacPattern(String(v));
    if ('error' in p) out.push(`group "${group.name}": selector mac: ${p.error}`);
  }
  return out;
}

/** Number of keys matched when all match, else -1. An empty selector matches everyone with 0. */
export function specificity(selector: Selector, s: BootSession): number {
  let n = 0;
  for (const [key, want] of Object.entries(selector)) {
    const options = values(want);
    if (!options.some((w) => keyMatches(key, w, s))) return -1;
    n++;
  }
  return n;
}

/** The most specific matching group; ties go to the first in config order. */
export function selectGroup(groups: readonly Group[], s: BootSession): Group | undefined {
  let best: Group | undefined;
  let bestScore = -1;
  for (const g of groups) {
    const score = specificity(g.selector, s);
    if (score > bestScore) {
      best = g;
      bestScore = score;
    }
  }
  return best;
}

function values(v: Selector[string] | undefined): Array<string | number> {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function keyMatches(key: string, want: string | number, s: BootSession): boolean {
  switch (key as Field) {
    case 'mac': {
      const p = parseMacPattern(String(want));
      return !('error' in p) && p.matches(s.mac);
    }
    case 'arch':
      return s.arch !== undefined && (typeof want === 'number' ? want === s.arch : globMatch(want, String(s.arch)));
    case 'userClass':
      return (s.userClass ?? []).some((u) => globMatch(String(want), u));
    case 'archName':
    case 'firmware':
    case 'vendorClass':
    case 'guid':
      return globMatch(String(want), s[key as 'archName'] ?? undefined);
    case 'hostname':
      return globMatch(String(want), s.labels['hostname']);
    default:
      return globMatch(String(want), s.labels[key]);
  }
}
