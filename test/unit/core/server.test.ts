import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, definePlugin, PxeError } from '../../../core/index.js';
import { ConfigError } from '../../../core/config/issues.js';
import { memoryLogger } from '../dhcp-service/helpers.js';

const quiet = { dhcp: { mode: 'off' as const }, tftp: { enabled: false }, http: { enabled: false } };

test('plugin options are validated before any apply, all errors at once, defaults applied', () => {
  let applied = 0;
  const mk = (name: string, options: unknown) =>
    definePlugin<{ n: number; m?: string }>({
      name,
      options,
      optionsSchema: {
        type: 'object',
        additionalProperties: false,
        properties: { n: { type: 'integer', minimum: 1 }, m: { type: 'string', default: 'dflt' } },
        required: ['n'],
      },
      apply(_s, { options: o }) {
        applied++;
        assert.equal(o.m, 'dflt');
      },
    });
  assert.throws(
    () => createServer({ ...quiet, log: { level: 'silent' }, plugins: [mk('a', { n: 0 }), mk('b', { x: 1 })] }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const paths = err.issues.map((i) => i.path);
      assert.ok(paths.includes('plugins[0] (a) options n'), paths.join());
      assert.ok(
        paths.some((p) => p.startsWith('plugins[1] (b) options')),
        paths.join(),
      );
      return true;
    },
  );
  assert.equal(applied, 0);
  createServer({ ...quiet, log: { level: 'silent' }, plugins: [mk('a', { n: 3 })] });
  assert.equal(applied, 1);
});

test('a duplicate plugin name and a missing dependency stop start-up naming which', () => {
  const p = (name: string, deps: string[] = []) => definePlugin({ name, dependencies: deps, apply() {} });
  assert.throws(
    () => createServer({ ...quiet, log: { level: 'silent' }, plugins: [p('x'), p('x')] }),
    (err: unknown) => err instanceof PxeError && err.code === 'PXE_ERR_PLUGIN_DUPLICATE' && /"x"/.test(err.message),
  );
  assert.throws(
    () => createServer({ ...quiet, log: { level: 'silent' }, plugins: [p('y', ['source-disk'])] }),
    (err: unknown) =>
      err instanceof PxeError &&
      err.code === 'PXE_ERR_PLUGIN_DEPENDENCY' &&
      /needs plugin "source-disk"/.test(err.message),
  );
});

test('a plugin that throws in a per-packet hook leaves the server running; the log names plugin and hook', async () => {
  const { logger, lines } = memoryLogger();
  const server = createServer({
    ...quiet,
    logger,
    plugins: [
      definePlugin({
        name: 'crashy',
        apply(s) {
          s.hooks.admit.tapPromise('crashy', async () => {
            throw new Error('kaboom');
          });
        },
      }),
    ],
  });
  await server.start();
  try {
    const first = await server.admit({ protocol: 'dhcp', mac: '52:54:00:00:00:01' });
    assert.equal(first.allowed, false, 'fail closed');
    const again = await server.admit({ protocol: 'dhcp', mac: '52:54:00:00:00:02' });
    assert.equal(again.allowed, false);
    assert.equal(server.state, 'started');
    const err = lines.find((l) => l['event'] === 'admit.error');
    assert.ok(err, 'error logged');
    assert.equal(err['plugin'], 'crashy');
    assert.equal(err['hook'], 'server.admit');
  } finally {
    await server.close();
  }
});

test('tapping after start is refused; start twice is an error; close is idempotent', async () => {
  let captured: import('../../../core/server.js').PxeServer | undefined;
  const server = createServer({
    ...quiet,
    log: { level: 'silent' },
    plugins: [
      definePlugin({
        name: 'keeper',
        apply(s) {
          captured = s;
        },
      }),
    ],
  });
  await server.start();
  assert.throws(
    () => captured!.hooks.bootEvent.tap('late', () => {}),
    (err: unknown) => err instanceof PxeError && err.code === 'PXE_ERR_HOOK_SEALED',
  );
  await assert.rejects(
    server.start(),
    (err: unknown) => err instanceof PxeError && err.code === 'PXE_ERR_SERVER_STATE',
  );
  await server.close();
  await server.close();
  assert.equal(server.state, 'closed');
});

test('admit: a deny is emitted as a boot event with the deciding plugin; no taps means admitted', async () => {
  const events: string[] = [];
  const server = createServer({
    ...quiet,
    log: { level: 'silent' },
    plugins: [
      definePlugin({
        name: 'gate',
        apply(s) {
          s.hooks.admit.tapPromise('gate', async (r) => (r.mac === 'bad' ? { deny: 'not on the list' } : undefined));
          s.hooks.bootEvent.tap('gate', (e) => events.push(`${e.type}:${e.plugin}:${String(e.data['reason'])}`));
        },
      }),
    ],
  });
  assert.deepEqual(await server.admit({ protocol: 'tftp', mac: 'good' }), { allowed: true });
  const denied = await server.admit({ protocol: 'tftp', mac: 'bad' });
  assert.equal(denied.allowed, false);
  assert.equal(denied.plugin, 'gate');
  assert.deepEqual(events, ['admit.deny:gate:not on the list']);
});

test('a bootEvent observer that throws never breaks the caller', () => {
  const server = createServer({
    ...quiet,
    log: { level: 'silent' },
    plugins: [
      definePlugin({
        name: 'bad-observer',
        apply(s) {
          s.hooks.bootEvent.tap('bad-observer', () => {
            throw new Error('x');
          });
        },
      }),
    ],
  });
  assert.doesNotThrow(() => server.emit({ type: 'tftp.done', protocol: 'tftp', outcome: 'ok', data: {} }));
});

test('createServer rejects plugin refs (strings) with a fix', () => {
  assert.throws(
    () => createServer({ ...quiet, log: { level: 'silent' }, plugins: ['source-disk'] as never }),
    (err: unknown) =>
      err instanceof PxeError &&
      err.code === 'PXE_ERR_PLUGIN_INVALID' &&
      /createServerFromConfig|config file/.test(err.fix ?? ''),
  );
});
