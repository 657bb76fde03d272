/**
 * pxekit as its users get it: `npm pack` once (dist/ is built by test/run.sh), installed from the
 * tarball into a fresh folder (offline from the npm cache where it can), beside a plugin package
 * installed from its own tarball and one symlinked as `npm link` does. Then plain `node` (no tsx) runs
 * the README's snippets and a program of its own, `tsc` checks a strict TypeScript consumer, and the
 * installed CLI validates, starts and stops configs that name the plugin packages.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk, spawnTracked, waitFor, type Tracked } from '../helpers/proc.js';
import { consumerFiles, pluginPackages, siteFiles } from './consumer-files.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const work = mkdtempSync(join(tmpdir(), 'pxekit-package-'));
const app = join(work, 'app');
const env = { ...process.env, NODE_OPTIONS: '', npm_config_loglevel: 'error', npm_config_fund: 'false' };
const procs: Tracked[] = [];

const write = (dir: string, files: Record<string, string>) => {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
};
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
/** The first code block under a README heading, as written. */
const snippet = (heading: string) => {
  const m = new RegExp(`## ${heading}\\n+\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(m, `README has a code block under "## ${heading}"`);
  return m[1]!;
};
const npx = (args: string[], timeoutMs = 30_000) => run('npx', ['pxekit', ...args], { cwd: app, env, timeoutMs });

before(async () => {
  assert.ok(
    existsSync(join(REPO, 'dist/core/index.js')),
    'dist/ is built (test/run.sh runs tsc -p tsconfig.build.json)',
  );
  // --ignore-scripts: dist/ is already built; prepack/prepare would rebuild it under other running tests.
  await runOk('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO, env, timeoutMs: 60_000 });
  const { tarball, linked, broken } = pluginPackages;
  write(join(work, 'rack'), tarball);
  await runOk('npm', ['pack', '--pack-destination', work], { cwd: join(work, 'rack'), env, timeoutMs: 60_000 });
  write(join(work, 'linked'), linked);
  write(join(work, 'broken'), broken);
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const builtins = readdirSync(join(REPO, 'dist', 'plugins'));
  write(app, consumerFiles({ readmePlugin: snippet('A plugin'), version, builtins }));
  writeFileSync(join(app, 'readme-program.mjs'), snippet('In a program'));
  write(join(work, 'site'), siteFiles);
  await runOk('npm', ['install', '--prefer-offline', '--no-audit'], { cwd: app, env, timeoutMs: 180_000 });
  // What `npm link` leaves in node_modules: a symlink to the plugin's own folder, which has no pxekit.
  mkdirSync(join(app, 'node_modules', '@acme'), { recursive: true });
  symlinkSync(join(work, 'linked'), join(app, 'node_modules', '@acme', 'pxekit-plugin-linked'), 'dir');
  symlinkSync(join(work, 'broken'), join(app, 'node_modules', 'pxekit-plugin-broken'), 'dir');
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(work, { recursive: true, force: true });
});

test('the tarball holds compiled code, types, sources for the maps, the addon sources; no tests, no build output', async () => {
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const listing = await runOk('tar', ['tzf', join(work, `pxekit-${version}.tgz`)], { timeoutMs: 30_000 });
  const entries = listing.stdout.trim().split('\n');
  assert.deepEqual(
    entries.filter((e) => /\.test\.|^package\/test\/|\.node$|native\/build\/|^package\/(bench|scripts)\//.test(e)),
    [],
    'no tests, benches, scripts or prebuilt addon',
  );
  assert.ok(entries.includes('package/dist/plugins/templates/index.d.ts'));
  const pkg = join(app, 'node_modules', 'pxekit');
  for (const f of ['dist/core/index.js', 'dist/core/index.d.ts', 'dist/core/testing.d.ts', 'schema/pxekit.schema.json'])
    assert.ok(existsSync(join(pkg, f)), f);
  for (const f of ['core/native/build.mjs', 'core/native/addon.c', 'docs/plugins.md', 'LICENSE'])
    assert.ok(existsSync(join(pkg, f)), f);
  assert.ok(!existsSync(join(pkg, 'test')), 'no test folder');
  assert.ok(!existsSync(join(pkg, 'plugins/boot-by-arch/boot-by-arch.test.ts')), 'no test files');
  assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'tsx is not installed for users');
});

test('plain node runs the README snippets and a program with built-in plugins and its own, through inject', async () => {
  const r = await runOk(process.execPath, ['program.mjs'], { cwd: app, env, timeoutMs: 30_000 });
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(out, {
    readmePlugin: { name: 'deny-all-on-friday', allowed: new Date().getDay() !== 5 },
    bios: { bootFile: 'undionly.kpxe', decidedBy: 'boot-by-arch' },
    uefi: { bootFile: 'ipxe.efi', steps: 2 },
    denied: 'lab-only: not a lab MAC',
    tftp: { ok: true, text: 'hello from boot/\n' },
    http: { status: 200, body: '#!ipxe\necho rack r9\n' },
  });
});

test('the README "In a program" snippet starts and stops as written (root: in its own network namespace)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('binds ports 67/69/80: needs root (run in a network namespace)');
  if ((await run('unshare', ['--net', 'true'], { timeoutMs: 5_000 })).code !== 0) return t.skip('unshare --net fails');
  const p = spawnTracked('unshare', ['--net', process.execPath, 'readme-program.mjs'], { cwd: app, env });
  procs.push(p);
  await waitFor(() => p.output().includes('pxekit listening') || p.exited(), 20_000, 'the server to listen');
  assert.ok(!p.exited(), p.output());
  p.child.kill('SIGINT');
  assert.equal(await p.exitPromise, 0, p.output());
  assert.match(p.output(), /pxekit closed/);
});

test('tsc type-checks a strict TypeScript consumer against the published .d.ts', async () => {
  const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, env, timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('npx pxekit validate finds plugin packages by name: from a tarball and symlinked', async () => {
  const r = await npx(['validate', '--config', 'pxekit.config.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /OK \(3 plugins: source-disk, rack, linked/);
  const broken = await npx(['validate', '--config', 'broken.config.yaml']);
  assert.equal(broken.code, 1, broken.stdout + broken.stderr);
  const text = broken.stdout + broken.stderr;
  assert.match(text, /cannot resolve "left-pad-not-installed" from .*broken\/index\.js/);
  assert.doesNotMatch(text, /syntax|valid ESM/i);
  const ts = await npx(['validate', '--config', 'pxekit.config.ts']);
  assert.equal(ts.code, 0, ts.stdout + ts.stderr);
  assert.match(ts.stdout, /OK \(2 plugins: local-ts, rack/, 'a .ts config and a .ts plugin by path, no loader');
  const site = await npx(['validate', '--config', join(work, 'site', 'pxekit.config.yaml')]);
  assert.equal(site.code, 0, site.stdout + site.stderr);
  assert.match(
    site.stdout,
    /OK \(2 plugins: site-mjs, site-ts/,
    'plugins in a folder without node_modules find pxekit',
  );
  const missing = await npx(['validate', '--config', 'missing.config.yaml']);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout + missing.stderr, /cannot resolve package "pxekit-plugin-nowhere" from /);
});

test('the installed CLI starts (plugin packages ready, a file served over HTTP) and stops on SIGTERM', async () => {
  const version = await npx(['--version']);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  // The bin npm linked (a symlink to bin/pxekit.js, run by its shebang), so the signal reaches pxekit itself.
  const bin = join(app, 'node_modules', '.bin', 'pxekit');
  const p = spawnTracked(bin, ['start', '--config', 'pxekit.config.yaml'], { cwd: app, env });
  procs.push(p);
  const port = await waitFor(
    () => /"protocol":"http","address":"127\.0\.0\.1","port":(\d+)/.exec(p.output())?.[1] ?? p.exited(),
    20_000,
    'pxekit start to listen',
  );
  assert.equal(typeof port, 'string', p.output());
  assert.match(p.output(), /"event":"rack.ready","rack":"r7"/);
  assert.match(p.output(), /"event":"linked.ready"/);
  const res = await fetch(`http://127.0.0.1:${String(port)}/hello.txt`);
  assert.equal(await res.text(), 'hello from boot/\n');
  p.child.kill('SIGTERM');
  assert.equal(await p.exitPromise, 0, p.output());
  assert.match(p.output(), /pxekit closed/);
});
