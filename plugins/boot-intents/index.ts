import { definePlugin, STAGE_FIRST } from 'pxekit';
import { type FileWatcher, watchFile, fromBase } from 'pxekit/kit';
import { intentCommand } from './cli.js';
import { DEFAULT_CHAIN_FILES, endsBootChain } from './consume.js';
import { IntentStore } from './intents.js';

export { IntentStore, type Intent, type IntentState } from './intents.js';

declare module 'pxekit' {
  interface Provides {
    /** boot-intents: the one-shot / "never" marks per MAC (session-redis shares them between instances). */
    intents: IntentStore;
  }
}

export interface BootIntentsOptions {
  /** JSON file the intents persist to; without it they live in memory only. */
  file?: string;
  /** Basename globs of loaders that chain back into DHCP (fetching one does not use a one-shot). */
  chainFiles: string[];
  /** Path globs whose successful fetch always uses a one-shot (e.g. `/pxelinux.cfg/*`). */
  consumeOn: string[];
  pollMs: number;
}

const NAME = 'boot-intents';

export default function bootIntents(options: Partial<BootIntentsOptions> = {}) {
  let store: IntentStore | undefined;
  const plugin = definePlugin<BootIntentsOptions>({
    name: NAME,
    options,
    provides: ['intents'],
    commands: [intentCommand],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        file: {
          type: 'string',
          minLength: 1,
          description:
            'JSON file the intents persist to (relative to the config file); `pxekit intent` edits ' +
            'it and the server reloads it. Without it: memory only',
        },
        chainFiles: {
          type: 'array',
          items: { type: 'string' },
          default: DEFAULT_CHAIN_FILES,
          description:
            'basename globs of loaders that come back to DHCP (iPXE binaries): fetching one does not use a one-shot',
        },
        consumeOn: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description:
            'path globs whose successful fetch uses a one-shot, whatever the boot target (e.g. /pxelinux.cfg/*)',
        },
        pollMs: { type: 'integer', minimum: 100, default: 2000, description: 'stat poll interval for file, ms' },
      },
    },
    apply(server, { options, log, baseDir, provide }) {
      const file = fromBase(baseDir, options.file);
      const intents = new IntentStore({ ...(file ? { file } : {}), log });
      store = intents;
      provide('intents', intents);
      let watcher: FileWatcher | undefined;

      server.hooks.ready.tapPromise(NAME, async () => {
        // A malformed file stops the start: ignoring it would netboot machines marked "never".
        await intents.load();
        log.info({ event: 'intents.loaded', file, count: intents.list().length }, 'boot intents loaded');
        if (file) watcher = watchFile(file, () => intents.reload(), { pollMs: options.pollMs, log });
      });
      server.hooks.close.tapPromise(NAME, async () => {
        watcher?.close();
        await intents.flush(); // a one-shot marked used just before shutdown must reach the file
      });

      server.dhcp.hooks.selectBoot.tap({ name: NAME, stage: STAGE_FIRST }, (ctx) => {
        const intent = intents.get(ctx.client.mac);
        if (intent?.state === 'never')
          return { noBoot: true, reason: `boot intent "never" for ${intent.mac}: do not netboot` };
        if (intent?.state === 'done')
          return {
            noBoot: true,
            reason: `one-shot boot of ${intent.mac} already used${intent.bootedAt ? ` at ${intent.bootedAt}` : ''}: boot from local disk`,
          };
        return undefined;
      });

      const rules = { chainFiles: options.chainFiles, consumeOn: options.consumeOn };
      server.hooks.bootEvent.tap(NAME, (event) => {
        const mac = event.mac ?? event.session?.mac;
        if (!mac || intents.get(mac)?.state !== 'once' || !endsBootChain(event, rules)) return;
        intents.markBooted(mac).then(
          (used) => {
            if (!used) return;
            log.info(
              { event: 'intents.used', mac, path: event.data['path'] },
              'one-shot boot used; next boots go to local disk',
            );
            server.emit({
              type: 'intent.used',
              protocol: 'server',
              outcome: 'info',
              mac,
              ...(event.session ? { session: event.session } : {}),
              plugin: NAME,
              data: { path: event.data['path'], via: event.type },
            });
          },
          (err: unknown) =>
            log.error(
              { event: 'intents.write.error', mac, err, code: 'PXE_ERR_INTENT_STORE' },
              'cannot record a used one-shot boot',
            ),
        );
      });
    },
  });
  // The store, once the plugin is applied (also `server.provided.get('intents')`): a getter, because apply creates it.
  Object.defineProperty(plugin, 'intents', { get: () => store, enumerable: false });
  return plugin as typeof plugin & { readonly intents: IntentStore | undefined };
}
