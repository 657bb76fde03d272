/**
 * Plugin packages named in a config, resolved from the config's folder (fast, from the sources; the
 * tarball version of these checks is test/package/consumer.test.ts): a symlinked package whose own
 * folder has no pxekit gets the running one; a missing package or dependency is named with where.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, PxeError, resolvePlugins } from 'pxekit';

function pluginPackage(dir: string, name: string, body: string) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, type: 'module', exports: './index.js' }));
  writeFileSync(join(dir, 'index.js'), body);
}

test('a symlinked plugin package without pxekit of its own gets the running pxekit', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pxekit-plugin-pkg-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const app = join(root, 'app');
  pluginPackage(
    join(root, 'src', 'linked'),
    '@acme/pxekit-plugin-linked',
    `import { definePlugin, PxeError } from 'pxekit';
export const errorClass = PxeError;
export default () => definePlugin({ name: 'linked', apply() {} });
`,
  );
  pluginPackage(
    join(root, 'src', 'broken'),
    'pxekit-plugin-broken',
    `import 'left-pad-not-here';\nexport default () => undefined;\n`,
  );
  mkdirSync(join(app, 'node_modules', '@acme'), { recursive: true });
  symlinkSync(join(root, 'src', 'linked'), join(app, 'node_modules', '@acme', 'pxekit-plugin-linked'), 'dir');
  symlinkSync(join(root, 'src', 'broken'), join(app, 'node_modules', 'pxekit-plugin-broken'), 'dir');

  const { plugins } = await resolvePlugins([['@acme/pxekit-plugin-linked', {}]], { baseDir: app });
  assert.equal(plugins[0]?.name, 'linked');
  const mod = (await import(join(root, 'src', 'linked', 'index.js'))) as { errorClass: unknown };
  assert.equal(mod.errorClass, PxeError, 'one pxekit in the process: the plugin got the running one');

  const failure = await resolvePlugins(
    [
      ['pxekit-plugin-broken', {}],
      ['pxekit-plugin-nowhere', {}],
    ],
    {
      baseDir: app,
    },
  ).catch((err: unknown) => err);
  assert.ok(failure instanceof ConfigError);
  const [broken, missing] = failure.issues;
  assert.match(broken?.fix ?? '', /cannot resolve "left-pad-not-here" from .*src\/broken\/index\.js/);
  assert.match(missing?.fix ?? '', /cannot resolve package "pxekit-plugin-nowhere" from .*app/);
});
