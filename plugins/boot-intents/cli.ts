/**
 * `pxekit intent set <mac> once|never | clear <mac> | list [--config PATH]`: edits the boot-intents file
 * named in the config's `boot-intents` plugin options. A running server sees the change through its
 * file watcher (the file is replaced atomically, so it never reads half a file).
 */
import { parseArgs } from 'node:util';
import { PxeError, type CommandContext, type PluginCommand } from 'pxekit';
import { IntentStore } from './intents.js';
import { fromBase } from 'pxekit/kit';

const USAGE = `Usage:
  pxekit intent set <mac> once|never [--config PATH]   boot once then local disk / do not netboot
  pxekit intent clear <mac> [--config PATH]            remove the mark (netboot as usual)
  pxekit intent list [--config PATH]                   show every mark
The intents file is the "file" option of the boot-intents plugin in the config.`;

type Options = { file?: string };

/** The intents file from the config's boot-intents options, absolute. */
async function intentsFile(ctx: CommandContext<Options>, configPath: string | undefined): Promise<string> {
  const plugin = await ctx.configured(configPath);
  const file = plugin.options.file;
  if (file) return fromBase(plugin.baseDir, file);
  throw new PxeError('PXE_ERR_CONFIG_INVALID', `${plugin.configFile} has no boot-intents plugin with a "file" option`, {
    fix: 'add to plugins: ["boot-intents", { "file": "./intents.json" }] (without a file, intents live only in the running server)',
  });
}

async function runIntentCommand(argv: string[], io: CommandContext<Options>): Promise<number> {
  let positionals: string[];
  let config: string | undefined;
  try {
    const parsed = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' } },
      allowPositionals: true,
      strict: true,
    });
    positionals = parsed.positionals;
    config = parsed.values.config;
  } catch (err) {
    io.err(`pxekit intent: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [action, mac, state] = positionals;
  const shapeOk =
    (action === 'set' && mac && (state === 'once' || state === 'never') && positionals.length === 3) ||
    (action === 'clear' && mac && positionals.length === 2) ||
    (action === 'list' && positionals.length === 1);
  if (!shapeOk) {
    io.err(`pxekit intent: ${action ? `bad arguments for "${action}"` : 'missing action'}\n${USAGE}`);
    return 2;
  }
  try {
    const store = new IntentStore({ file: await intentsFile(io, config) });
    await store.load();
    if (action === 'set') {
      const i = await store.set(mac!, state as 'once' | 'never');
      io.out(`${i.mac} ${i.state}`);
    } else if (action === 'clear') {
      io.out((await store.clear(mac!)) ? `${mac} cleared` : `${mac} had no intent`);
    } else {
      const all = store.list();
      if (all.length === 0) io.out('no boot intents');
      for (const i of all)
        io.out(`${i.mac}  ${i.state.padEnd(5)}  set ${i.setAt}${i.bootedAt ? `  used ${i.bootedAt}` : ''}`);
    }
    return 0;
  } catch (err) {
    const fix = err instanceof PxeError && err.fix ? `\n  fix: ${err.fix}` : '';
    io.err(`pxekit intent: ${err instanceof Error ? err.message : String(err)}${fix}`);
    return 1;
  }
}

/** `pxekit intent …`, contributed by the boot-intents plugin. */
export const intentCommand: PluginCommand<Options> = {
  name: 'intent',
  summary: 'mark a MAC to netboot once, or never',
  usage: USAGE,
  run: runIntentCommand,
};
