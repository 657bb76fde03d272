/**
 * docs/hooks.md is generated from the TSDoc in core/hooks/*.ts (scripts/gen-hooks-doc.ts, `npm run docs:hooks`):
 * the page must equal what the script writes now, every hook a running server registers must be documented
 * with the kind the runner derives from its class, the generator must refuse a hook whose TSDoc lacks a
 * part of the template or whose declared class differs from the one created, and every @example compiles.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
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

/**
 * Names the examples use besides the server: declared here so that each example compiles as a plugin's
 * apply() body would, against the real hook types (a renamed field or a wrong return fails the test).
 */
const EXAMPLE_PRELUDE = `import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { PxeServer } from '../server.js';
import { memoryFile, setOption } from '../kit.js';
declare const server: PxeServer;
declare const log: Logger;
declare const options: { file: string };
declare let table: Map<string, string>;
declare const writer: { flush(): Promise<void> };
declare const client: { quit(): Promise<unknown> };
declare const done: { inc(labels: Record<string, string>): void };
declare const me: string;
declare function owner(mac: string): string;
void readFile; void memoryFile; void setOption; void log; void options; void writer; void client; void done; void me; void owner;
`;

test('every hook example compiles against the hook types', () => {
  const examples = readHooks().flatMap((o) => o.hooks.map((h) => ({ name: h.name, example: h.example })));
  assert.ok(examples.length >= 16);
  const body = examples
    .map(({ name, example }) => {
      const code = /```ts\n([\s\S]*?)```/.exec(example)?.[1];
      assert.ok(code, `${name}: the example has no ts code block`);
      return `// ${name}\n{\n${code}}\n`;
    })
    .join('\n');
  // A file beside the hooks (never written to disk): imports resolve as they would in core/hooks.
  const file = join(import.meta.dirname, '../../../core/hooks/examples.generated.ts');
  const base = program();
  const options = { ...base.getCompilerOptions(), noEmit: true, noUnusedLocals: false };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, EXAMPLE_PRELUDE + body, lang, true) : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const prog = ts.createProgram([file], options, host);
  const errors = ts
    .getPreEmitDiagnostics(prog, prog.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(errors, [], `hook examples do not compile:\n${EXAMPLE_PRELUDE}${body}`);
});
