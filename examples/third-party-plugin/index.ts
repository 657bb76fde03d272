/**
 * rack-labels: a plugin written outside pxekit, the way the built-in plugins are written — it imports
 * only the public entries (`pxekit` for the contract, `pxekit/kit` for helpers) and could be published
 * as `pxekit-plugin-rack-labels` unchanged. It labels DHCP clients with their rack from a table of MACs,
 * OUIs or MAC patterns, gives templates a `rack` variable, provides its table to other plugins, counts
 * boot events per rack and adds a `pxekit racks` command.
 */
import { definePlugin } from 'pxekit';
import { racksCommand } from './command.js';
import { rackTable, type RackLabelsOptions, type RackTable } from './table.js';

export { rackTable, type RackLabelsOptions, type RackTable } from './table.js';

declare module 'pxekit' {
  interface Provides {
    /** rack-labels: the rack of a MAC (`defaultRack` when it matches no entry). */
    racks: RackTable;
  }
}

const NAME = 'rack-labels';

export default function rackLabels(options: Partial<RackLabelsOptions> = {}) {
  const counts = new Map<string, number>();
  const plugin = definePlugin<RackLabelsOptions>({
    name: NAME,
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['racks'],
      properties: {
        racks: {
          type: 'object',
          description: 'MAC, OUI (52:54:00) or MAC pattern (52:54:00:*) → rack name; the first match wins',
          additionalProperties: { type: 'string', minLength: 1 },
        },
        defaultRack: { type: 'string', default: 'unracked', description: 'label for clients that match no entry' },
      },
    },
    provides: ['racks'],
    commands: [racksCommand],
    apply(server, { options, log, provide }) {
      const table = rackTable(options);
      provide('racks', table);
      server.dhcp.hooks.classify.tap(NAME, (client) => {
        client.labels['rack'] = table.rackOf(client.mac);
        return client;
      });
      // Per-host templates (templates, host-profiles) can write {{rack}}.
      server.hooks.templateVars.tap(NAME, (vars, session) => ({
        ...vars,
        rack: session.labels['rack'] ?? table.rackOf(session.mac),
      }));
      server.hooks.bootEvent.tap(NAME, (event) => {
        const rack = event.session?.labels['rack'];
        if (rack !== undefined) counts.set(rack, (counts.get(rack) ?? 0) + 1);
      });
      server.hooks.ready.tapPromise(NAME, async () => {
        log.debug({ event: 'rack-labels.ready', entries: Object.keys(options.racks).length }, 'rack table loaded');
      });
      server.hooks.close.tapPromise(NAME, async () => {
        log.info({ event: 'rack-labels.summary', counts: Object.fromEntries(counts) }, 'boot events per rack');
      });
    },
  });
  // Boot events per rack so far, for programs and tests.
  return Object.assign(plugin, { counts: counts as ReadonlyMap<string, number> });
}
