/**
 * `pxekit racks [MAC] [--config PATH]`: prints the rack table from the config's rack-labels options, or
 * the rack of one MAC. A plugin's CLI command: it gets its own options through `ctx.configured()`.
 */
import { parseArgs } from 'node:util';
import type { PluginCommand } from 'pxekit';
import { normalizeMac } from 'pxekit/kit';
import { rackTable, type RackLabelsOptions } from './table.js';

export const racksCommand: PluginCommand<RackLabelsOptions> = {
  name: 'racks',
  summary: '[MAC] — print the rack table, or the rack of one MAC',
  usage:
    'Usage: pxekit racks [MAC] [--config PATH]\n  Prints the rack table of the rack-labels options, or the rack of one MAC.',
  async run(argv, ctx) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, allowPositionals: true });
    } catch (err) {
      ctx.err(`pxekit racks: ${(err as Error).message}`);
      return 2;
    }
    const [mac, ...extra] = parsed.positionals;
    if (extra.length > 0 || (mac !== undefined && normalizeMac(mac) === undefined)) {
      ctx.err('Usage: pxekit racks [MAC] [--config PATH]');
      return 2;
    }
    const { options } = await ctx.configured(parsed.values.config);
    if (mac !== undefined) {
      ctx.out(rackTable(options).rackOf(mac));
      return 0;
    }
    for (const [pattern, rack] of Object.entries(options.racks)) ctx.out(`${pattern}  ${rack}`);
    ctx.out(`*  ${options.defaultRack}`);
    return 0;
  },
};
