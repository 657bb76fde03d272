/**
 * HTTP taps that say their paths (HttpTapOptions, core/hooks/http.ts): such a tap is called only for those
 * paths, in every tapping style, and the lean-path test (httpHookPasses) follows the taps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createHttpHooks,
  httpHookPasses,
  httpHookPathLimited,
  type HttpContext,
  type HttpScript,
} from '../../../core/hooks/http.js';
import { HookRunner } from '../../../core/hooks/runner.js';

const ctx = (path: string) => ({ path }) as HttpContext;

test('a request tap with paths runs for its paths only; others pass it by to the next tap', async () => {
  const hooks = createHttpHooks(new HookRunner());
  const seen: string[] = [];
  hooks.request.tapPromise({ name: 'metrics', paths: (p) => p === '/metrics' }, async (c) => {
    seen.push(`metrics ${c.path}`);
    return { status: 200, body: 'm' };
  });
  hooks.request.tap({ name: 'sync', paths: (p) => p.startsWith('/api/') }, (c) => {
    seen.push(`sync ${c.path}`);
    return { status: 202 };
  });
  hooks.request.tapAsync({ name: 'cb', paths: (p) => p === '/cb' }, (c, done) => {
    seen.push(`cb ${c.path}`);
    done(null, { status: 204 });
  });
  assert.deepEqual(await hooks.request.promise(ctx('/metrics')), { status: 200, body: 'm' });
  assert.deepEqual(await hooks.request.promise(ctx('/api/x')), { status: 202 });
  assert.deepEqual(await hooks.request.promise(ctx('/cb')), { status: 204 });
  assert.equal(await hooks.request.promise(ctx('/vmlinuz')), undefined);
  assert.deepEqual(seen, ['metrics /metrics', 'sync /api/x', 'cb /cb']);
  assert.equal(httpHookPathLimited(hooks.request), true);
  assert.equal(httpHookPasses(hooks.request, '/vmlinuz'), true, 'no tap takes /vmlinuz: lean');
  assert.equal(httpHookPasses(hooks.request, '/metrics'), false);
});

test('a script tap with paths: other paths keep the value passed in, its own get its script', async () => {
  const hooks = createHttpHooks(new HookRunner());
  const first: HttpScript = { body: 'from an earlier tap' };
  hooks.script.tapPromise({ name: 'a', paths: (p) => p === '/boot.ipxe' }, async (prev) => prev ?? { body: 'a' });
  hooks.script.tapAsync({ name: 'b', paths: (p) => p === '/b.ipxe' }, (_prev, _c, done) => done(null, { body: 'b' }));
  assert.deepEqual(await hooks.script.promise(undefined, ctx('/boot.ipxe')), { body: 'a' });
  assert.deepEqual(await hooks.script.promise(undefined, ctx('/b.ipxe')), { body: 'b' });
  assert.equal(await hooks.script.promise(undefined, ctx('/initrd.img')), undefined);
  assert.equal(await hooks.script.promise(first, ctx('/initrd.img')), first, 'passed by: the value goes on as is');
});

test('one tap without paths takes every request; paths that is not a function is refused at tap time', () => {
  const hooks = createHttpHooks(new HookRunner());
  assert.equal(httpHookPasses(hooks.script, '/x'), true, 'nothing tapped');
  hooks.script.tapPromise({ name: 'limited', paths: (p) => p === '/s' }, async (prev) => prev);
  assert.equal(httpHookPasses(hooks.script, '/x'), true);
  hooks.script.tapPromise('everything', async (prev) => prev);
  assert.equal(httpHookPathLimited(hooks.script), false);
  assert.equal(httpHookPasses(hooks.script, '/x'), false);
  assert.throws(
    () => hooks.request.tapPromise({ name: 'bad', paths: '/metrics' as never }, async () => undefined),
    /paths` must be a function/,
  );
});

test('an interceptor watching calls keeps every request on node:http (it must see each call)', () => {
  const hooks = createHttpHooks(new HookRunner());
  hooks.request.tapPromise({ name: 'limited', paths: (p) => p === '/m' }, async () => undefined);
  assert.equal(httpHookPasses(hooks.request, '/x'), true);
  hooks.request.intercept({ call: () => undefined });
  assert.equal(httpHookPasses(hooks.request, '/x'), false);
  assert.equal(httpHookPathLimited(hooks.request), false);
});

test("a paths test that throws takes the request: the tap runs (no crash on the lean path's check)", async () => {
  const hooks = createHttpHooks(new HookRunner());
  const broken = (p: string): boolean => {
    if (p === '/x') throw new Error('bug in a plugin');
    return false;
  };
  let called = 0;
  hooks.request.tapPromise({ name: 'broken', paths: broken }, async () => {
    called++;
    return { status: 204 };
  });
  assert.equal(httpHookPasses(hooks.request, '/x'), false, 'not lean: node:http runs the tap');
  assert.equal(httpHookPasses(hooks.request, '/y'), true);
  assert.deepEqual(await hooks.request.promise(ctx('/x')), { status: 204 });
  assert.equal(await hooks.request.promise(ctx('/y')), undefined);
  assert.equal(called, 1);
});
