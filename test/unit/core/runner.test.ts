import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesWaterfallHook,
  SyncBailHook,
  SyncWaterfallHook,
} from 'tapable';
import { HookError } from '../../../core/errors.js';
import { HookRunner, hookIsIdle, hookKind, STAGE_FIRST, STAGE_LATE } from '../../../core/hooks/runner.js';

test('a throwing sync tap becomes a HookError naming plugin and hook', () => {
  const runner = new HookRunner();
  const hook = runner.register('dhcp.classify', new SyncWaterfallHook<[number]>(['n']));
  runner.applying('bad-plugin', () =>
    hook.tap('whatever-name', () => {
      throw new Error('boom');
    }),
  );
  assert.throws(
    () => hook.call(1),
    (err: unknown) => {
      assert.ok(err instanceof HookError);
      assert.equal(err.plugin, 'bad-plugin');
      assert.equal(err.hook, 'dhcp.classify');
      assert.equal(err.code, 'PXE_ERR_HOOK_FAILED');
      assert.match(err.message, /boom/);
      return true;
    },
  );
});

test('a rejecting async tap is tagged; the tap name is used when no plugin is applying', async () => {
  const runner = new HookRunner();
  const hook = runner.register('files.resolve', new AsyncSeriesBailHook<[string], string | undefined>(['p']));
  hook.tapPromise('embedder', async () => {
    throw new Error('nope');
  });
  await assert.rejects(
    hook.promise('x'),
    (err: unknown) => err instanceof HookError && err.plugin === 'embedder' && err.hook === 'files.resolve',
  );
});

test('an async tap that never settles is cut off by its timeout', async () => {
  const runner = new HookRunner({ asyncTimeoutMs: 50 });
  const hook = runner.register('server.admit', new AsyncSeriesBailHook<[string], string | undefined>(['r']));
  hook.tapPromise('hangs', () => new Promise<undefined>(() => {}));
  await assert.rejects(
    hook.promise('x'),
    (err: unknown) => err instanceof HookError && err.code === 'PXE_ERR_HOOK_TIMEOUT' && err.plugin === 'hangs',
  );
});

test('a promise tap that settles after its timeout is reported once, as timed out, and decides nothing', async () => {
  const runner = new HookRunner({ asyncTimeoutMs: 30 });
  const timings: boolean[] = [];
  runner.onTiming((t) => timings.push(t.ok));
  const hook = runner.register('server.admit', new AsyncSeriesBailHook<[string], object | undefined>(['r']));
  const late = { allow: true };
  hook.tapPromise('slow', () => new Promise((resolve) => setTimeout(() => resolve(late), 80)));
  await assert.rejects(
    hook.promise('x'),
    (err: unknown) => err instanceof HookError && err.code === 'PXE_ERR_HOOK_TIMEOUT',
  );
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(timings, [false]);
  assert.equal(runner.decidedBy(late), undefined);
});

test('a promise tap that settles in time leaves no timer behind', async () => {
  const runner = new HookRunner({ asyncTimeoutMs: 60_000 });
  const hook = runner.register('files.resolve', new AsyncSeriesBailHook<[string], string | undefined>(['p']));
  hook.tapPromise('quick', async (p) => `${p}!`);
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  assert.equal(await hook.promise('a'), 'a!');
  assert.equal(timers(), before);
  const other = runner.register('files.other', new AsyncSeriesBailHook<[string], string | undefined>(['p']));
  other.tapPromise('fails', async () => {
    throw new Error('no');
  });
  await assert.rejects(other.promise('a'));
  assert.equal(timers(), before);
});

test('callback-style async taps time out too', async () => {
  const runner = new HookRunner({ asyncTimeoutMs: 50 });
  const hook = runner.register('x.y', new AsyncSeriesBailHook<[string], string | undefined>(['r']));
  hook.tapAsync('never-calls-back', (_r, _cb) => {});
  await assert.rejects(
    hook.promise('x'),
    (err: unknown) => err instanceof HookError && err.code === 'PXE_ERR_HOOK_TIMEOUT',
  );
});

test('per-hook timeouts override the default', async () => {
  const runner = new HookRunner({ asyncTimeoutMs: 20, timeouts: { 'server.ready': 500 } });
  const hook = runner.register('server.ready', new AsyncSeriesBailHook<[], string | undefined>([]));
  hook.tapPromise('slow-setup', () => new Promise((r) => setTimeout(() => r('done'), 60)));
  assert.equal(await hook.promise(), 'done');
});

test('tapping after seal() is refused', () => {
  const runner = new HookRunner();
  const hook = runner.register('a.b', new SyncWaterfallHook<[number]>(['n']));
  runner.seal();
  assert.throws(
    () => hook.tap('late', (n) => n),
    (err: unknown) => (err as { code?: string }).code === 'PXE_ERR_HOOK_SEALED',
  );
});

test('order: stage first, then registration (config) order', async () => {
  const runner = new HookRunner();
  const hook = runner.register('a.b', new SyncWaterfallHook<[string[]]>(['acc']));
  hook.tap('second', (a) => [...a, 'second']);
  hook.tap({ name: 'last', stage: STAGE_LATE }, (a) => [...a, 'last']);
  hook.tap('third', (a) => [...a, 'third']);
  hook.tap({ name: 'first', stage: STAGE_FIRST }, (a) => [...a, 'first']);
  assert.deepEqual(hook.call([]), ['first', 'second', 'third', 'last']);
});

test('decidedBy names the plugin whose bail tap answered, without touching the result', async () => {
  const runner = new HookRunner();
  const hook = runner.register(
    'dhcp.selectBoot',
    new AsyncSeriesBailHook<[number], { file: string } | undefined>(['n']),
  );
  runner.applying('passes', () => hook.tapPromise('passes', async () => undefined));
  runner.applying('decides', () => hook.tapPromise('decides', async (n) => ({ file: `f${n}` })));
  const r = await hook.promise(7);
  assert.deepEqual(r, { file: 'f7' });
  assert.deepEqual(Object.keys(r!), ['file']);
  assert.equal(runner.decidedBy(r), 'decides');
});

test('onTiming observes each tap with plugin, hook and outcome', async () => {
  const runner = new HookRunner();
  const seen: string[] = [];
  runner.onTiming((t) => seen.push(`${t.plugin}@${t.hook}:${t.ok}`));
  const hook = runner.register('a.b', new AsyncSeriesBailHook<[number], number | undefined>(['n']));
  hook.tapPromise('p1', async () => undefined);
  hook.tapPromise('p2', async () => {
    throw new Error('x');
  });
  await assert.rejects(hook.promise(1));
  assert.deepEqual(seen, ['p1@a.b:true', 'p2@a.b:false']);
});

test('a tracked waterfall remembers the plugin that produced a new value, not those that passed it on', async () => {
  const runner = new HookRunner();
  const hook = runner.register('http.script', new AsyncSeriesWaterfallHook<[{ body: string } | undefined]>(['script']));
  runner.applying('maker', () => hook.tapPromise('maker', async () => ({ body: 'a' })));
  runner.applying('passer', () => hook.tapPromise('passer', async (s) => s));
  const out = await hook.promise(undefined);
  assert.equal(runner.decidedBy(out), 'maker');
});

test("a hook's kind comes from its class: bail and waterfall hooks track deciders with no flag", async () => {
  const runner = new HookRunner();
  const bail = runner.register('a.bail', new SyncBailHook<[number], { n: number } | undefined>(['n']));
  const fall = runner.register('a.fall', new SyncWaterfallHook<[{ n: number }]>(['v']));
  const plain = runner.register('a.plain', new AsyncParallelHook<[number]>(['n']));
  assert.deepEqual([hookKind(bail), hookKind(fall), hookKind(plain)], ['bail', 'waterfall', 'plain']);
  runner.applying('answers', () => bail.tap('answers', (n) => ({ n })));
  runner.applying('makes', () => fall.tap('makes', (v) => ({ n: v.n + 1 })));
  runner.applying('passes', () => fall.tap('passes', (v) => v));
  assert.equal(runner.decidedBy(bail.call(1)), 'answers');
  assert.equal(runner.decidedBy(fall.call({ n: 1 })), 'makes');
});

test('a promise tap that settles after its timeout is reported once, as the timeout', async () => {
  const runner = new HookRunner({ asyncTimeoutMs: 30 });
  const seen: string[] = [];
  runner.onTiming((t) => seen.push(`${t.plugin}:${t.ok}`));
  const hook = runner.register('late.hook', new AsyncSeriesBailHook<[string], string | undefined>(['r']));
  hook.tapPromise('late', () => new Promise<string>((resolve) => setTimeout(() => resolve('late answer'), 80)));
  await assert.rejects(
    hook.promise('x'),
    (err: unknown) => err instanceof HookError && err.code === 'PXE_ERR_HOOK_TIMEOUT',
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen, ['late:false']);
});

test('a promise tap whose function returns a plain value (or throws) is still a promise tap', async () => {
  const runner = new HookRunner({ asyncTimeoutMs: 30 });
  const hook = runner.register('plain.hook', new AsyncSeriesBailHook<[number], { n: number } | undefined>(['n']));
  // Not async on purpose: the wrapper must treat a plain return value as the tap's answer.
  runner.applying('plain', () => hook.tapPromise('plain', ((n: number) => (n > 0 ? { n } : undefined)) as never));
  const r = await hook.promise(3);
  assert.deepEqual(r, { n: 3 });
  assert.equal(runner.decidedBy(r), 'plain');
  const thrower = runner.register('throw.hook', new AsyncSeriesBailHook<[number], number | undefined>(['n']));
  thrower.tapPromise('thrower', (() => {
    throw new Error('sync throw');
  }) as never);
  await assert.rejects(thrower.promise(1), (err: unknown) => err instanceof HookError && err.plugin === 'thrower');
});

test('hookIsIdle: only a hook with no taps and no call-watching interceptor may be skipped', async () => {
  const runner = new HookRunner();
  const plain = runner.register('idle.plain', new AsyncSeriesBailHook<[number], number | undefined>(['n']));
  assert.equal(hookIsIdle(plain), true, "the runner's own register interceptor does not count");
  const tapped = runner.register('idle.tapped', new AsyncSeriesBailHook<[number], number | undefined>(['n']));
  tapped.tapPromise('t', async () => undefined);
  assert.equal(hookIsIdle(tapped), false);
  const watched = runner.register('idle.watched', new AsyncSeriesBailHook<[number], number | undefined>(['n']));
  const calls: number[] = [];
  watched.intercept({ call: (n: number) => void calls.push(n) });
  assert.equal(hookIsIdle(watched), false, 'a call interceptor must still see every call');
  await watched.promise(4);
  assert.deepEqual(calls, [4]);
});
