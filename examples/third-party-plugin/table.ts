/** The rack table of rack-labels: options, the lookup other plugins use, and how it is built. */
import { PxeError } from 'pxekit';
import { compileMacPatterns, normalizeMac, type MacPattern } from 'pxekit/kit';

export interface RackLabelsOptions {
  /** MAC, OUI (`52:54:00`) or MAC pattern (`52:54:00:*`) → rack name; the first match wins. */
  racks: Record<string, string>;
  /** Label for clients that match no entry. */
  defaultRack: string;
}

/** What other plugins get with `ctx.use('racks')`: the rack of a MAC. */
export interface RackTable {
  rackOf(mac: string): string;
}

/** The table from the options: patterns compiled once, in the order written. */
export function rackTable(options: RackLabelsOptions): RackTable {
  const entries = Object.entries(options.racks);
  const compiled = compileMacPatterns(entries.map(([pattern]) => pattern));
  if (compiled.errors.length) {
    throw new PxeError('PXE_ERR_CONFIG_INVALID', `rack-labels: ${compiled.errors.map((e) => e.error).join('; ')}`, {
      fix: 'write MACs as aa:bb:cc:dd:ee:ff, OUIs as aa:bb:cc, patterns as aa:bb:cc:*',
    });
  }
  const rows = compiled.patterns.map((p: MacPattern, i) => ({ pattern: p, rack: entries[i]![1] }));
  return {
    rackOf: (mac) => {
      const m = normalizeMac(mac) ?? mac;
      return rows.find((r) => r.pattern.matches(m))?.rack ?? options.defaultRack;
    },
  };
}
