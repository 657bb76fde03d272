/**
 * CLI subcommands from plugins: found among the config's plugins and the built-ins, listed in --help, one
 * plugin per name, `ctx.configured()` giving the plugin's validated options or naming what is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../../core/cli.js';
import { runPluginCommand } from '../../../core/index.js';

const PLUGIN = (name: string) => `
import { definePlugin } from 'pxekit';
export default (options) => definePlugin({
  name: '${name}', options,
  optionsSchema: {
    type: 'object', additionalProperties: false,
    properties: { greeting: { type: 'string', default: 'hello', description: 'what to say' } },
  },
  commands: [{
    name: 'greet', summary: 'say the configured greeting',
    async run(argv, ctx) {
      const { options, name } = await ctx.configured();
      ctx.out(options.greeting + ' ' + argv.join(' ') + ' from ' + name);
      return 0;
    },
  }],
  apply() {},
});`;

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'pxekit-cmd-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(d, name), body);
  return d;
}
const config = (plugins: unknown[]) => JSON.stringify({ dhcp: { mode: 'off' }, plugins });
function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) } };
}

test("a config's plugin adds a command that reads its own options (defaults filled in); --help lists it", async () => {
  const d = dir({ 'greeter.mjs': PLUGIN('greeter'), 'pxekit.config.json': config([['./greeter.mjs', {}]]) });
  const c = capture();
  const cfg = join(d, 'pxekit.config.json');
  assert.equal(await runPluginCommand(['greet', 'world', '--config', cfg], c.io), 0, c.err.join('\n'));
  assert.deepEqual(c.out, [`hello world --config ${cfg} from greeter`]);
  const help = capture();
  assert.equal(await main(['--help', '--config', cfg], help.io), 0);
  assert.match(help.out.join('\n'), /pxekit greet +say the configured greeting \(greeter\)/);
  assert.match(help.out.join('\n'), /pxekit intent .*\(boot-intents\)/, 'built-in plugin commands too');
});

test('no such command: undefined (the CLI then says unknown command); two plugins with one name: error', async () => {
  const c = capture();
  assert.equal(await runPluginCommand(['no-such-command'], c.io), undefined);
  const d = dir({
    'a.mjs': PLUGIN('greeter-a'),
    'b.mjs': PLUGIN('greeter-b'),
    'pxekit.config.json': config([
      ['./a.mjs', {}],
      ['./b.mjs', {}],
    ]),
  });
  assert.equal(await runPluginCommand(['greet', '--config', join(d, 'pxekit.config.json')], c.io), 1);
  assert.match(c.err.pop() ?? '', /"greeter-a" and "greeter-b" both add this command/);
});

test('ctx.configured: a config that does not list the plugin, or bad options, fail with the file and fix', async () => {
  const d = dir({ 'greeter.mjs': PLUGIN('greeter'), 'pxekit.config.json': config([['boot-intents', {}]]) });
  const c = capture();
  // The built-in boot-intents adds `intent`; this config lists it without a file.
  assert.equal(await runPluginCommand(['intent', 'list', '--config', join(d, 'pxekit.config.json')], c.io), 1);
  assert.match(c.err.join('\n'), /has no boot-intents plugin with a "file" option/);
  const none = dir({ 'pxekit.config.json': config([]) });
  assert.equal(await runPluginCommand(['intent', 'list', '--config', join(none, 'pxekit.config.json')], c.io), 1);
  assert.match(c.err.join('\n'), /does not list the boot-intents plugin/);
  const bad = dir({
    'greeter.mjs': PLUGIN('greeter'),
    'pxekit.config.json': config([['./greeter.mjs', { greeting: 5 }]]),
  });
  assert.equal(await runPluginCommand(['greet', '--config', join(bad, 'pxekit.config.json')], c.io), 1);
  assert.match(c.err.join('\n'), /greeting/);
});
