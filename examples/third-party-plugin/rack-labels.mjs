// A third-party plugin, as someone outside the project would write it: plain ESM, importing only
// the public API. It labels DHCP clients with their rack (from a MAC → rack table in its options),
// and counts boot events per rack. Config: ["./rack-labels.mjs", { racks: { "52:54:00:12:34:56": "r1" } }]
import { definePlugin } from 'pxekit';

export default function rackLabels(options = {}) {
  return definePlugin({
    name: 'rack-labels',
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['racks'],
      properties: {
        racks: {
          type: 'object',
          description: 'MAC (lowercase, colon-separated) → rack name',
          additionalProperties: { type: 'string', minLength: 1 },
        },
        defaultRack: { type: 'string', default: 'unracked', description: 'Label for MACs not in the table' },
      },
    },
    apply(server, { options, log }) {
      const counts = new Map();
      server.dhcp.hooks.classify.tap('rack-labels', (client) => {
        client.labels.rack = options.racks[client.mac] ?? options.defaultRack;
        return client;
      });
      server.hooks.bootEvent.tap('rack-labels', (event) => {
        const rack = event.session?.labels.rack ?? options.defaultRack;
        counts.set(rack, (counts.get(rack) ?? 0) + 1);
      });
      server.hooks.close.tapPromise('rack-labels', async () => {
        log.info({ event: 'rack-labels.summary', counts: Object.fromEntries(counts) }, 'boot events per rack');
      });
      // Exposed for tests and for programs embedding pxekit.
      server.hooks.ready.tapPromise('rack-labels', async () => {
        log.debug({ event: 'rack-labels.ready', racks: Object.keys(options.racks).length }, 'rack table loaded');
      });
      rackLabels.counts = counts;
    },
  });
}
