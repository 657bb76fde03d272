// pxekit embedded in your own program: createServer() with plugin instances, an inline plugin,
// and boot events. Run: sudo npx tsx examples/programmatic/server.ts (PORT_* variables move the ports).
import { fileURLToPath } from 'node:url';
import { createServer, definePlugin } from 'pxekit';
import sourceDisk from 'pxekit/plugins/source-disk';
import ipxeChain from 'pxekit/plugins/ipxe-chain';
import bootByArch from 'pxekit/plugins/boot-by-arch';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const bootCounter = definePlugin({
  name: 'boot-counter',
  options: {},
  optionsSchema: { type: 'object' },
  apply(server, { log }) {
    let n = 0;
    server.hooks.bootEvent.tap('boot-counter', (e) => {
      if (e.type === 'http.get')
        log.info({ event: 'boot-counter.script', n: ++n, mac: e.mac, path: e.data['path'] }, 'script fetched');
    });
  },
});

const server = createServer({
  dhcp: { mode: process.env.PXEKIT_DHCP === 'off' ? 'off' : 'proxy', port: env('PORT_DHCP', 67) },
  tftp: { port: env('PORT_TFTP', 69), ...(process.env.PXEKIT_ADDRESS ? { address: process.env.PXEKIT_ADDRESS } : {}) },
  http: { port: env('PORT_HTTP', 80), ...(process.env.PXEKIT_ADDRESS ? { address: process.env.PXEKIT_ADDRESS } : {}) },
  plugins: [
    sourceDisk({ root: fileURLToPath(new URL('./boot', import.meta.url)) }),
    ipxeChain({ script: '/boot.ipxe?mac=${mac}' }),
    bootByArch(),
    bootCounter,
  ],
});
await server.start();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void server.close());
