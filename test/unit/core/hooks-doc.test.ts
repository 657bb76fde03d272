/**
 * docs/hooks.md is generated from the TSDoc in core/hooks/*.ts (scripts/gen-hooks-doc.ts, `npm run docs:hooks`):
 * the page must equal what the script writes now, every hook a running server registers must be documented
 * with the kind the runner derives from its class, and the generator must refuse a hook whose TSDoc lacks a
 * part of the template or whose declared class differs from the one created.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer } from 'pxekit';
import { hookKind } from '../../../core/hooks/runner.js';
import { DOC_PATH, hooksDoc, KINDS, program, readHooks } from '../../../scripts/gen-hooks-doc.js';

test('docs/hooks.md is generated from the TSDoc in core/hooks', () => {
  const current = readFileSync(DOC_PATH, 'utf8');
  assert.equal(current, hooksDoc(current), 'docs/hooks.md is out of date: run npm run docs:hooks');
});

test('every hook a server registers is documented, with the kind the runner derives from its class', () => {
  const server = createServer({ dhcp: { mode: 'off' }, log: { level: 'silent' } });
  const documented = new Map(readHooks().flatMap((o) => o.hooks.map((h) => [h.name, h] as const)));
  const registered = [...server.runner.hooks()];
  assert.ok(registered.length >= 16, `only ${registered.length} hooks registered`);
  for (const [name, hook] of registered) {
    const doc = documented.get(name);
    assert.ok(doc, `${name} is registered but not documented in core/hooks/*.ts`);
    const derived = hookKind(hook);
    const fromDoc = KINDS[doc.kind]!.result;
    assert.equal(fromDoc === 'none' ? 'plain' : fromDoc, derived, `${name}: documented ${doc.kind}`);
  }
  assert.deepEqual([...documented.keys()].sort(), registered.map(([name]) => name).sort());
});

test('the generator refuses a hook with a missing TSDoc part or a class other than the one created', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-hooks-doc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const hook = (doc: string, declared: string, created: string) => `import { ${declared}, ${created} } from 'tapable';
export interface DemoHooks {
  /**
   * A demo hook.
${doc}
   */
  demo: ${declared}<[string]>;
}
export function createDemoHooks(runner: { register<H>(name: string, hook: H): H }): DemoHooks {
  return { demo: runner.register('demo.demo', new ${created}<[string]>(['value'])) };
}
`;
  const full = ['@when Always.', '@returns Ignored.', '@onError Logged.', '@example\n   * ```ts\n   * x;\n   * ```']
    .map((l) => `   * ${l}`)
    .join('\n');
  const read = async (name: string, text: string) => {
    const file = join(dir, `${name}.ts`);
    await writeFile(file, text);
    return () => readHooks(program([file]), [file]);
  };
  const ok = await read('ok', hook(full, 'SyncHook', 'SyncHook'));
  assert.equal(ok()[0]?.hooks[0]?.name, 'demo.demo');
  const noOnError = await read('no-onerror', hook(full.replace('@onError Logged.', ''), 'SyncHook', 'SyncHook'));
  assert.throws(noOnError, /demo: TSDoc @onError missing/);
  const mismatch = await read('mismatch', hook(full, 'SyncHook', 'SyncBailHook'));
  assert.throws(mismatch, /declared SyncHook but created as SyncBailHook/);
});
