// Log event names follow docs/conventions.md ("Logs"): `area.thing`, lowercase, dot-separated; the area may be
// a plugin's kebab-case name, the words after it have no `-` or `_`. This test reads every source file with the
// TypeScript parser and checks each `event:` given to a log line and each boot event `type:` given to `emit`,
// so a new name in another form fails here rather than in someone's log pipeline.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { globSync } from 'glob';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '../../..');
const EVENT_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*)+$/;
const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** Names that are `event` fields but not log events, with why. */
const NOT_LOG_EVENTS = new Map([['plugins/status/index.ts:snapshot', 'the status page server-sent event name']]);

interface Found {
  name: string;
  where: string;
  kind: 'log' | 'boot';
}

/** The text of a literal; `${…}` parts become `x` so a computed area (`${what}.request.error`) is still checked. */
function literalText(node: ts.Expression): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node))
    return node.head.text + node.templateSpans.map((s) => `x${s.literal.text}`).join('');
  return undefined;
}

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isElementAccessExpression(callee)) return 'log[level]';
  return undefined;
}

function scan(file: string): Found[] {
  const rel = relative(ROOT, file);
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Found[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name)) {
      const key = node.name.text;
      const name = literalText(node.initializer);
      const where = `${rel}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
      // Every `event: '…'` in the sources (log lines build their fields in place or in a variable first).
      if (key === 'event' && name !== undefined && !NOT_LOG_EVENTS.has(`${rel}:${name}`)) {
        found.push({ name, where, kind: 'log' });
      }
      // Boot event types: `emit({ type: '…' })`.
      const call = node.parent.parent;
      if (key === 'type' && name !== undefined && ts.isCallExpression(call) && calleeName(call) === 'emit') {
        found.push({ name, where, kind: 'boot' });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const files = globSync('{core,plugins,examples,bench,scripts}/**/*.ts', {
  cwd: ROOT,
  absolute: true,
  ignore: ['**/node_modules/**', '**/*.test.ts', '**/*.d.ts'],
});
const all = files.flatMap(scan);

test('the scan finds the log and boot events it is meant to check', () => {
  // If the parser walk broke, every name check below would pass on nothing.
  const logs = all.filter((f) => f.kind === 'log').map((f) => f.name);
  const boots = all.filter((f) => f.kind === 'boot').map((f) => f.name);
  for (const name of ['tftp.done', 'http.request', 'dhcp.decode.error', 'lease-file.loaded', 'x.request.error']) {
    assert.ok(logs.includes(name), `log event ${name} not found by the scan`);
  }
  for (const name of ['tftp.done', 'http.get', 'admit.deny']) {
    assert.ok(boots.includes(name), `boot event ${name} not found by the scan`);
  }
  assert.ok(LOG_LEVELS.size > 0 && logs.length > 80, `only ${logs.length} log events found`);
});

test('every log and boot event name is area.thing: lowercase, dot-separated (docs/conventions.md)', () => {
  const bad = all.filter((f) => !EVENT_NAME.test(f.name)).map((f) => `${f.where}: ${f.kind} event "${f.name}"`);
  assert.deepEqual(bad, [], 'rename to area.thing: lowercase words separated by dots (the area may be kebab-case)');
});

test('the name check refuses the forms the convention rules out', () => {
  for (const name of ['bootEvent.error', 'tftp.hook_error', 'allowlist.load-error', 'snapshot', 'Dhcp.ack', 'a..b']) {
    assert.ok(!EVENT_NAME.test(name), name);
  }
  for (const name of ['tftp.hook.error', 'lease-file.tail.torn', 'dhcp6.reply', 'x.request.error']) {
    assert.ok(EVENT_NAME.test(name), name);
  }
});

test('every log event in the sources is listed in docs/log-events.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/log-events.md'), 'utf8');
  const missing = [...new Set(all.filter((f) => f.kind === 'log' && !f.name.startsWith('x.')).map((f) => f.name))]
    .filter((name) => !doc.includes(`\`${name}\``))
    .sort();
  assert.deepEqual(missing, [], 'add these to docs/log-events.md');
});
