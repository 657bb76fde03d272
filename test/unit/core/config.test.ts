import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServerFromConfig, loadConfig } from '../../../core/index.js';
import { ConfigError } from '../../../core/config/issues.js';
import { coreConfigSchema } from '../../../core/config/schema.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/pxekit.js');

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-cfg-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

const LOCAL_PLUGIN = `
import { definePlugin } from 'pxekit';
export default (options) => definePlugin({
  name: 'counter', options,
  optionsSchema: {
    type: 'object', additionalProperties: false,
    properties: { start: { type: 'integer', minimum: 0, default: 0, description: 'first value' } },
  },
  apply(server, { options }) {
    globalThis.__pxekitCounter = options.start;
    server.hooks.ready.tapPromise('counter', async () => { globalThis.__pxekitCounter++; });
  },
});
`;

test('a YAML config starts a server, found by search in the cwd, with defaults applied', async () => {
  const dir = tmp({
    'pxekit.config.yaml':
      'dhcp:\n  mode: "off"\ntftp:\n  enabled: false\nhttp:\n  enabled: false\nlog:\n  level: silent\n',
  });
  const loaded = await loadConfig(undefined, dir);
  assert.equal(loaded.config.tftp.port, 69);
  assert.equal(loaded.config.dhcp.pxePort, 4011);
  const server = await createServerFromConfig({ cwd: dir });
  await server.start();
  await server.close();
});

test('an .mjs config lists a local third-party plugin whose taps run', async () => {
  const dir = tmp({
    'counter.mjs': LOCAL_PLUGIN,
    'pxekit.config.mjs':
      `export default { dhcp: { mode: 'off' }, tftp: { enabled: false }, http: { enabled: ` +
      `false }, log: { level: 'silent' }, plugins: [['./counter.mjs', { start: 41 }]] };`,
  });
  // The plugin imports 'pxekit' by name: make it resolvable from the temp dir.
  const { symlinkSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'pxekit'));
  const server = await createServerFromConfig({ configPath: join(dir, 'pxekit.config.mjs') });
  await server.start();
  assert.equal((globalThis as Record<string, unknown>)['__pxekitCounter'], 42);
  await server.close();
});

test('the example third-party plugin loads from its config and labels clients', async () => {
  const server = await createServerFromConfig({
    configPath: join(ROOT, 'examples/third-party-plugin/pxekit.config.mjs'),
  });
  const client = { mac: '52:54:00:12:34:56', labels: {} as Record<string, string> };
  const out = server.dhcp.hooks.classify.call(client as never, {} as never) as unknown as typeof client;
  assert.equal(out.labels['rack'], 'r1');
  await server.start();
  await server.close();
});

test('a bad plugin option names file, plugin, path and fix in one message; pxekit validate exits 1', async () => {
  const dir = tmp({
    'counter.mjs': LOCAL_PLUGIN,
    'pxekit.config.yaml': 'dhcp:\n  mode: "off"\nplugins:\n  - [./counter.mjs, { start: -5 }]\n',
  });
  const { symlinkSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'pxekit'));
  await assert.rejects(createServerFromConfig({ cwd: dir }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.issues.length, 1);
    const msg = err.message;
    assert.match(msg, /pxekit\.config\.yaml/);
    assert.match(msg, /plugins\[0\] \(counter\) options start/);
    assert.match(msg, /Fix: use a number >= 0/);
    return true;
  });
  const r = await run(process.execPath, [BIN, 'validate'], { cwd: dir }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /pxekit\.config\.yaml: plugins\[0\] \(counter\) options start: is out of range \(found -5, expected >= 0\)\. Fix: use a number >= 0/,
  );
});

test('every core config error is reported together, with a did-you-mean fix', async () => {
  const dir = tmp({
    'pxekit.config.json': JSON.stringify({ dhcp: { mode: 'proxi', prot: 67 }, tftp: { maxBlksize: 10 } }),
  });
  await assert.rejects(loadConfig(undefined, dir), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    const byPath = new Map(err.issues.map((i) => [i.path, i]));
    assert.ok(byPath.get('dhcp.mode'));
    assert.match(byPath.get('dhcp.prot')?.fix ?? '', /did you mean "port"/);
    assert.ok(byPath.get('tftp.maxBlksize'));
    for (const i of err.issues) assert.equal(i.file, 'pxekit.config.json');
    return true;
  });
});

test('an unknown plugin lists the built-in ones in its fix', async () => {
  const dir = tmp({ 'pxekit.config.yaml': 'plugins:\n  - no-such-plugin\n' });
  await assert.rejects(
    createServerFromConfig({ cwd: dir }),
    (err: unknown) =>
      err instanceof ConfigError && err.code === 'PXE_ERR_PLUGIN_NOT_FOUND' && /plugins\[0\]/.test(err.message),
  );
});

test('a config file with a syntax error says which file', async () => {
  const dir = tmp({ 'pxekit.config.yaml': 'dhcp: [unclosed\n' });
  await assert.rejects(
    loadConfig(undefined, dir),
    (err: unknown) => (err as { code?: string }).code === 'PXE_ERR_CONFIG_PARSE',
  );
  await assert.rejects(
    loadConfig('missing.yaml', dir),
    (err: unknown) => (err as { code?: string }).code === 'PXE_ERR_CONFIG_NOT_FOUND',
  );
});

test('a .ts config loads on Node 20', async () => {
  const dir = tmp({
    'pxekit.config.ts': `const mode: 'off' = 'off';\nexport default { dhcp: { mode }, tftp: { port: 6969 satisfies number } };\n`,
  });
  const loaded = await loadConfig(undefined, dir);
  assert.equal(loaded.config.tftp.port, 6969);
});

test('package.json#pxekit is a config place', async () => {
  const dir = tmp({ 'package.json': JSON.stringify({ name: 'x', pxekit: { http: { port: 8080 } } }) });
  assert.equal((await loadConfig(undefined, dir)).config.http.port, 8080);
});

test('schema/pxekit.schema.json is in sync with the core schema', () => {
  const published = JSON.parse(readFileSync(join(ROOT, 'schema/pxekit.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(published, JSON.parse(JSON.stringify(coreConfigSchema)), 'run: npm run schema');
});

test('pxekit --help and --version', async () => {
  assert.match((await run(process.execPath, [BIN, '--help'])).stdout, /pxekit start/);
  assert.match((await run(process.execPath, [BIN, '--version'])).stdout, /^\d+\.\d+\.\d+/);
});

test('a plugin can be listed twice as name#instance; dependencies match the base name', async () => {
  const dir = tmp({
    'counter.mjs': LOCAL_PLUGIN.replace("name: 'counter'", "name: 'counter', dependencies: []"),
    'needs.mjs':
      `import { definePlugin } from 'pxekit';\nexport default () => definePlugin({ name: ` +
      `'needs-counter', dependencies: ['counter'], apply() {} });\n`,
    'pxekit.config.yaml':
      'dhcp:\n  mode: "off"\nlog:\n  level: silent\nplugins:\n  - ["./counter.mjs#a", {}]\n  - ' +
      '["./counter.mjs#b", { start: 1 }]\n  - ./needs.mjs\n',
  });
  const { symlinkSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'pxekit'));
  const server = await createServerFromConfig({ cwd: dir });
  assert.equal(server.baseDir, dir);
});

test('docs/config-reference.md is generated from the current schemas', async () => {
  const { configReference } = await import('../../../scripts/gen-config-reference.js');
  assert.equal(
    readFileSync(join(ROOT, 'docs/config-reference.md'), 'utf8'),
    await configReference(),
    'run: npm run docs:config',
  );
});
