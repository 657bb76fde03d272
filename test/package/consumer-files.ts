/**
 * The files of consumer.test.ts: an app folder that depends on the pxekit tarball, and three plugin
 * packages (one packed to a tarball, one symlinked, one whose dependency is missing).
 */

/** A plugin package as docs/plugins.md ("Publishing a plugin") describes it: ESM, types, pxekit as a peer. */
const packageJson = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify(
    {
      name,
      version: '1.0.0',
      type: 'module',
      exports: { '.': { types: './index.d.ts', default: './index.js' } },
      peerDependencies: { pxekit: '>=0.1.0' },
      keywords: ['pxekit-plugin'],
      ...extra,
    },
    null,
    2,
  );

const readyPlugin = (name: string, extraImport = '') => `${extraImport}
import { definePlugin } from 'pxekit';

export default function plugin(options = {}) {
  return definePlugin({
    name: '${name}',
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { rack: { type: 'string', default: 'r0', description: 'rack label' } },
    },
    apply(server, { options: o, log }) {
      server.dhcp.hooks.classify.tap('${name}', (client) => ({ ...client, labels: { ...client.labels, rack: o.rack } }));
      server.hooks.ready.tapPromise('${name}', async () => log.info({ event: '${name}.ready', rack: o.rack }, 'ready'));
    },
  });
}
`;

const types = `import type { PluginDefinition } from 'pxekit';
export interface RackOptions { rack?: string }
export default function plugin(options?: RackOptions): PluginDefinition<RackOptions>;
`;

export const pluginPackages = {
  tarball: {
    'package.json': packageJson('pxekit-plugin-rack'),
    'index.js': readyPlugin('rack'),
    'index.d.ts': types,
  },
  linked: {
    'package.json': packageJson('@acme/pxekit-plugin-linked'),
    'index.js': readyPlugin('linked'),
    'index.d.ts': types,
  },
  broken: {
    'package.json': packageJson('pxekit-plugin-broken', { dependencies: { 'left-pad-not-installed': '1.0.0' } }),
    'index.js': readyPlugin('broken', "import 'left-pad-not-installed';"),
    'index.d.ts': types,
  },
};

/** A plugin of the program's own, a program using createServer + inject and pxekit/testing. */
const program = `import { createServer, definePlugin } from 'pxekit';
import { createTestServer, pxeClient, syntheticDiscoverBuffer } from 'pxekit/testing';
import sourceDisk from 'pxekit/plugins/source-disk';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import denyOnFriday from './readme-plugin.mjs';

const friday = denyOnFriday();
const plain = createServer({ dhcp: { mode: 'off' }, log: { level: 'silent' }, plugins: [friday] });
const admitted = await plain.admit({ protocol: 'dhcp', mac: '52:54:00:00:00:01' });
await plain.close();

const labOnly = definePlugin({
  name: 'lab-only',
  apply(server) {
    server.hooks.admit.tapPromise('lab-only', async (req) =>
      req.mac && !req.mac.startsWith('52:54:00:') ? { deny: 'not a lab MAC' } : undefined);
    server.http.hooks.script.tapPromise('lab-only', async (prev, ctx) =>
      ctx.path === '/rack.ipxe' ? { body: '#!ipxe\\necho rack r9\\n', contentType: 'text/plain' } : prev);
  },
});
const plugins = () => [sourceDisk({ root: './boot' }), labOnly, bootByArch()];

const server = createServer({ dhcp: { mode: 'proxy' }, log: { level: 'silent' }, plugins: plugins() });
const [offer] = await server.inject.dhcp(syntheticDiscoverBuffer({ mac: '52:54:00:00:00:07', arch: 0 }), {
  local: { address: '192.0.2.1' },
});
const http = await server.inject.http({ path: '/rack.ipxe' });
await server.close();

const s = await createTestServer({ plugins: plugins() });
const bios = await s.boot(pxeClient('bios'));
const uefi = await s.boot(pxeClient('uefi64'));
const denied = await s.boot(pxeClient('bios', { mac: 'aa:bb:cc:dd:ee:01' }));
const tftp = await s.tftp('/hello.txt');
await s.close();

console.log(JSON.stringify({
  readmePlugin: { name: friday.name, allowed: admitted.allowed },
  bios: { bootFile: offer?.packet.file || bios.bootFile, decidedBy: bios.boot?.decidedBy },
  uefi: { bootFile: uefi.bootFile, steps: uefi.steps.length },
  denied: \`\${denied.denied?.plugin}: \${denied.denied?.reason}\`,
  tftp: { ok: tftp.ok, text: tftp.data?.toString() },
  http: { status: http.status, body: http.body.toString() },
}));
`;

/** A strict TypeScript consumer: every public entry, a plugin of its own, the plugin package's types. */
const appTs = (
  plugins: string[],
) => `import { createServer, definePlugin, STAGE_FIRST, type PxeServer, type BootEvent } from 'pxekit';
import { createTestServer, pxeClient, useFakeClock, type BootResult } from 'pxekit/testing';
import { LruMap, normalizeMac, type RedisOptions } from 'pxekit/kit';
import rack from 'pxekit-plugin-rack';
import denyOnFriday from './readme-plugin.js';
${plugins.map((p, i) => `import p${i} from 'pxekit/plugins/${p}';`).join('\n')}

interface Options { deny: string[] }
const denyList = (options: Partial<Options> = {}) =>
  definePlugin<Options>({
    name: 'deny-list',
    options,
    optionsSchema: { type: 'object', properties: { deny: { type: 'array', items: { type: 'string' }, default: [] } } },
    apply(server, { options: o, log }) {
      const denied = new Set(o.deny);
      server.hooks.admit.tapPromise({ name: 'deny-list', stage: STAGE_FIRST }, async (req) =>
        req.mac && denied.has(req.mac) ? { deny: 'listed' } : undefined);
      server.hooks.bootEvent.tap('deny-list', (e: BootEvent) => log.debug({ event: 'deny-list.seen', type: e.type }, 'seen'));
    },
  });

export const server: PxeServer = createServer({
  dhcp: { mode: 'proxy' },
  plugins: [denyList({ deny: ['52:54:00:aa:bb:cc'] }), rack({ rack: 'r1' }), denyOnFriday()],
});
export const full = createServer({ dhcp: { mode: 'full', pools: [{ subnet: '10.0.0.0/24', range: ['10.0.0.10', '10.0.0.20'] }] } });
export const kit: [LruMap<string, number>, string | undefined, RedisOptions | undefined] = [
  new LruMap(8),
  normalizeMac('52-54-00-00-00-01'),
  undefined,
];
export const factories = [${plugins.map((_, i) => `p${i}`).join(', ')}];
export async function check(t: import('node:test').TestContext): Promise<BootResult> {
  const clock = useFakeClock(t);
  await clock.advance(10);
  const s = await createTestServer({ plugins: [denyList()] });
  const r = await s.boot(pxeClient('uefi64', { mac: '52:54:00:00:00:01' }));
  await s.close();
  return r;
}
`;

const tsconfig = JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
      noPropertyAccessFromIndexSignature: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      verbatimModuleSyntax: true,
      skipLibCheck: false,
      noEmit: true,
    },
    files: ['app.ts', 'readme-plugin.ts', 'pxekit.config.ts', 'local-plugin.ts'],
  },
  null,
  2,
);

/** A TypeScript config and plugin given by path: loaded by the compiled CLI without a TypeScript loader (jiti). */
const tsConfigFile = `import { defineConfig } from 'pxekit';
import type { RackOptions } from 'pxekit-plugin-rack';

const rack: RackOptions = { rack: 'r3' };
export default defineConfig({
  dhcp: { mode: 'off' },
  tftp: { enabled: false },
  http: { address: '127.0.0.1', port: 0 },
  plugins: [['./local-plugin.ts', { greeting: 'hi' }], ['pxekit-plugin-rack', { ...rack }]],
});
`;

const localTsPlugin = `import { definePlugin, type PluginDefinition } from 'pxekit';

interface Options { greeting: string }
export default function local(options: Partial<Options> = {}): PluginDefinition<Options> {
  return definePlugin<Options>({
    name: 'local-ts',
    options,
    optionsSchema: { type: 'object', properties: { greeting: { type: 'string', default: 'hello', description: 'said at start' } } },
    apply(server, { options: o, log }) {
      server.hooks.ready.tapPromise('local-ts', async () => log.info({ event: 'local-ts.ready', greeting: o.greeting }, 'ready'));
    },
  });
}
`;

const yaml = (plugins: string) => `dhcp: { mode: "off" }
tftp: { enabled: false }
http: { address: 127.0.0.1, port: 0 }
log: { level: info, pretty: false }
plugins:
${plugins}`;

/** The app folder: package.json with the tarballs, the programs, configs and a file to serve. */
export function consumerFiles(o: {
  readmePlugin: string;
  version: string;
  builtins: string[];
}): Record<string, string> {
  return {
    'package.json': JSON.stringify(
      {
        name: 'pxekit-consumer',
        private: true,
        type: 'module',
        dependencies: {
          pxekit: `file:../pxekit-${o.version}.tgz`,
          'pxekit-plugin-rack': 'file:../pxekit-plugin-rack-1.0.0.tgz',
        },
      },
      null,
      2,
    ),
    'readme-plugin.mjs': o.readmePlugin,
    'readme-plugin.ts': o.readmePlugin,
    'program.mjs': program,
    'app.ts': appTs(o.builtins),
    'tsconfig.json': tsconfig,
    'boot/hello.txt': 'hello from boot/\n',
    'pxekit.config.yaml': yaml(`  - [source-disk, { root: ./boot }]
  - [pxekit-plugin-rack, { rack: r7 }]
  - ["@acme/pxekit-plugin-linked", {}]
`),
    'pxekit.config.ts': tsConfigFile,
    'local-plugin.ts': localTsPlugin,
    'broken.config.yaml': yaml('  - [pxekit-plugin-broken, {}]\n'),
    'missing.config.yaml': yaml('  - [pxekit-plugin-nowhere, {}]\n'),
  };
}

/**
 * A config folder outside any package (like /etc/pxekit): no node_modules, plugins by path importing
 * `pxekit`, `pxekit/plugins/…` and `pxekit/kit`, in JavaScript and TypeScript.
 */
export const siteFiles: Record<string, string> = {
  'pxekit.config.yaml': yaml('  - [./site.mjs, {}]\n  - [./site-ts.ts, {}]\n'),
  'site.mjs': `import { definePlugin } from 'pxekit';
import ipxeChain from 'pxekit/plugins/ipxe-chain';
export default () => definePlugin({ name: 'site-mjs', apply() { void ipxeChain; } });
`,
  'site-ts.ts': `import { definePlugin } from 'pxekit';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import { normalizeMac } from 'pxekit/kit';
export default () => definePlugin({ name: 'site-ts', apply() { void bootByArch; void normalizeMac('52:54:00:00:00:01'); } });
`,
};
