/**
 * Plugins talk through declared interfaces: ctx.provide / ctx.use checked against `provides`,
 * `dependencies` and `optionalDependencies`; template variables through the templateVars hook.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, definePlugin, MemoryLeaseStore, PxeError, type PluginSpec } from '../../../core/index.js';
import { templateVars } from '../../../core/kit.js';

const quiet = {
  log: { level: 'silent' as const },
  dhcp: { mode: 'off' as const },
  tftp: { enabled: false },
  http: { enabled: false },
};
const store = new MemoryLeaseStore();
const provider = (extra: Partial<PluginSpec<unknown>> = {}) =>
  definePlugin({
    name: 'store-maker',
    provides: ['leaseStore'],
    apply(_s, { provide }) {
      provide('leaseStore', store);
    },
    ...extra,
  });
const code = (c: string) => (err: unknown) => err instanceof PxeError && err.code === c;

test('a declared provider hands its value to the core and to a plugin that depends on it', async () => {
  let seen: unknown;
  const user = definePlugin({
    name: 'store-user',
    dependencies: ['store-maker'],
    apply(_s, { use }) {
      seen = use('leaseStore');
    },
  });
  const server = createServer({ ...quiet, plugins: [provider(), user] });
  assert.equal(seen, store);
  assert.equal(server.provided.get('leaseStore'), store);
  assert.equal(server.provided.providerOf('leaseStore'), 'store-maker');
  assert.equal(server.dhcp.leaseStore, store, 'the core uses the provided lease store');
});

test('provide needs the name in provides, in apply, once', async () => {
  const undeclared = definePlugin({ name: 'sneaky', apply: (_s, { provide }) => provide('leaseStore', store) });
  assert.throws(() => createServer({ ...quiet, plugins: [undeclared] }), code('PXE_ERR_PLUGIN_PROVIDES'));
  const twice = provider({ apply: (_s, { provide }) => (provide('leaseStore', store), provide('leaseStore', store)) });
  assert.throws(() => createServer({ ...quiet, plugins: [twice] }), /provided "leaseStore" twice/);
  const late = provider({
    apply(server, { provide }) {
      server.hooks.ready.tapPromise('store-maker', async () => provide('leaseStore', store));
    },
  });
  const server = createServer({ ...quiet, plugins: [late] });
  await assert.rejects(server.start(), /after its apply\(\)/);
  await server.close();
});

test('two providers of one name stop the server, naming both', () => {
  assert.throws(
    () => createServer({ ...quiet, plugins: [provider(), provider({ name: 'other-store' })] }),
    (err: unknown) =>
      code('PXE_ERR_PLUGIN_PROVIDES')(err) && /store-maker/.test(String(err)) && /other-store/.test(String(err)),
  );
});

test('use: the provider must be declared; optional use without one is undefined; required use names the fix', () => {
  const undeclared = definePlugin({ name: 'taker', apply: (_s, { use }) => void use('leaseStore') });
  assert.throws(
    () => createServer({ ...quiet, plugins: [provider(), undeclared] }),
    (err: unknown) =>
      code('PXE_ERR_PLUGIN_DEPENDENCY')(err) &&
      /add 'store-maker' to the dependencies/.test((err as PxeError).fix ?? ''),
  );
  let optional: unknown = 'unset';
  const maybe = definePlugin({
    name: 'maybe',
    optionalDependencies: ['store-maker'],
    apply: (_s, { use }) => void (optional = use('leaseStore', { optional: true })),
  });
  createServer({ ...quiet, plugins: [maybe] });
  assert.equal(optional, undefined);
  createServer({ ...quiet, plugins: [provider(), maybe] });
  assert.equal(optional, store, 'optional use gets the value when the provider is configured');
  const needs = definePlugin({ name: 'needs', apply: (_s, { use }) => void use('leaseStore') });
  assert.throws(() => createServer({ ...quiet, plugins: [needs] }), /no configured plugin provides/);
});

test('use in apply before the provider applied says to use it in ready; in ready it is there', async () => {
  const early = definePlugin({
    name: 'early',
    dependencies: ['store-maker'],
    apply: (_s, { use }) => void use('leaseStore'),
  });
  assert.throws(
    () => createServer({ ...quiet, plugins: [early, provider()] }),
    (err: unknown) => /listed later/.test(String(err)) && /server\.hooks\.ready/.test((err as PxeError).fix ?? ''),
  );
  let seen: unknown;
  const patient = definePlugin({
    name: 'patient',
    dependencies: ['store-maker'],
    apply(server, { use }) {
      server.hooks.ready.tapPromise('patient', async () => void (seen = use('leaseStore')));
    },
  });
  const server = createServer({ ...quiet, plugins: [patient, provider()] });
  await server.start();
  await server.close();
  assert.equal(seen, store);
});

test('templateVars: plugins add variables through the hook, in order, before the caller extras', () => {
  const addRack = definePlugin({
    name: 'rack',
    apply(server) {
      server.hooks.templateVars.tap('rack', (vars, session) => ({ ...vars, rack: session.labels['rack'] ?? null }));
      server.hooks.templateVars.tap('rack', (vars) => ({ ...vars, shout: String(vars['rack']).toUpperCase() }));
    },
  });
  const server = createServer({ ...quiet, plugins: [addRack] });
  const session = {
    mac: '52:54:00:00:00:01',
    labels: { rack: 'r7' },
    stage: 'dhcp' as const,
    firstSeen: 0,
    lastSeen: 0,
    bytes: 0,
    files: [],
  };
  const vars = templateVars(server, session, undefined, { shout: 'caller wins' });
  assert.equal(vars['rack'], 'r7');
  assert.equal(vars['shout'], 'caller wins');
  assert.equal(vars['mac_dashes'], '52-54-00-00-00-01', 'the core variables are there');
  assert.equal(templateVars(server, session)['shout'], 'R7');
});
