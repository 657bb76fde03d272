/**
 * The layering of core/, checked with dependency-cruiser (rules in .dependency-cruiser.cjs): no import
 * cycle, protocol engines below the server, and each of core/dhcp, core/tftp, core/http loads alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../..', import.meta.url).pathname;
const depcruise = join(root, 'node_modules/.bin/depcruise');

interface CruiseResult {
  modules: { source: string }[];
  summary: { violations: { rule: { name: string }; from: string; to: string; cycle?: { name: string }[] }[] };
}

async function cruise(args: string[], cwd = root): Promise<CruiseResult> {
  // depcruise exits non-zero on violations; the JSON on stdout says which.
  const out = await run(depcruise, [...args, '--output-type', 'json'], { cwd, maxBuffer: 64 << 20 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  return JSON.parse(out.stdout) as CruiseResult;
}

function describe(r: CruiseResult): string {
  return r.summary.violations
    .map((v) => `${v.rule.name}: ${v.from} → ${v.cycle ? v.cycle.map((c) => c.name).join(' → ') : v.to}`)
    .join('\n');
}

test('core/ has no import cycle and the protocol folders import nothing above them', async () => {
  const r = await cruise(['core', '--config', '.dependency-cruiser.cjs']);
  // Guards against a vacuous pass (a resolver that found nothing): the core is well over 100 modules.
  assert.ok(r.modules.filter((m) => m.source.startsWith('core/')).length > 100, 'dependency-cruiser saw core/');
  assert.equal(r.summary.violations.length, 0, describe(r));
});

test('the rules catch a cycle and a protocol importing the server', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-layering-'));
  try {
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
    await run('mkdir', ['-p', join(dir, 'core/dhcp')]);
    await writeFile(join(dir, 'core/server.ts'), "import { a } from './dhcp/a.js';\nexport const s = a;\n");
    await writeFile(join(dir, 'core/dhcp/a.ts'), "import { s } from '../server.js';\nexport const a = 1;\nvoid s;\n");
    const r = await cruise(
      ['core', '--config', join(root, '.dependency-cruiser.cjs'), '--ts-config', join(root, 'tsconfig.json')],
      dir,
    );
    const rules = new Set(r.summary.violations.map((v) => v.rule.name));
    assert.ok(rules.has('no-cycle'), describe(r));
    assert.ok(rules.has('protocols-below-server'), describe(r));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const alone: Record<string, { entry: string; never: RegExp }> = {
  // core/native is below every protocol: the DHCP listener's batched sockets, TFTP's transfer sockets and
  // HTTP's sendfile come from it (each with a node fallback).
  dhcp: {
    entry: 'core/dhcp/pipeline.ts',
    never: /^core\/(tftp|http|config|services)\/|ajv|^core\/(server|plugin)\.ts$/,
  },
  tftp: { entry: 'core/tftp/index.ts', never: /^core\/(dhcp|http|config|services)\/|ajv|^core\/(server|plugin)\.ts$/ },
  http: {
    entry: 'core/http/handler.ts',
    never: /^core\/(dhcp|tftp|config|services)\/|ajv|^core\/(server|plugin)\.ts$/,
  },
};

for (const [name, { entry, never }] of Object.entries(alone)) {
  test(`core/${name} loads alone: ${entry} reaches no other protocol, config, server or ajv`, async () => {
    const r = await cruise([`core/${name}`, '--config', '.dependency-cruiser.cjs']);
    const reached = r.modules.map((m) => m.source);
    assert.ok(reached.includes(entry), `${entry} was cruised`);
    assert.deepEqual(
      reached.filter((s) => never.test(s)),
      [],
    );
    // And it really imports on its own (a load-order dependency on the server would throw here).
    const { stdout } = await run(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        '-e',
        `import('./${entry}').then((m) => console.log(Object.keys(m).length))`,
      ],
      { cwd: root },
    );
    assert.ok(Number(stdout.trim()) > 0, `${entry} exports something`);
  });
}
