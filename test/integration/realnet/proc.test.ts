/**
 * The child-process helpers the realnet harness is built on: bounded runs, exit codes,
 * missing commands, tracked processes, bounded polling. No root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, runOk, spawnTracked, waitFor } from '../../helpers/proc.js';
import { createLan, realnetAvailable } from '../../helpers/realnet.js';

test('run collects output and exit code', async () => {
  const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 5_000 });
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 3);
  assert.equal(r.timedOut, false);
});

test('run passes stdin and stops at its timeout', async () => {
  const echo = await run('cat', [], { timeoutMs: 5_000, input: 'hello' });
  assert.equal(echo.stdout, 'hello');
  const slow = await run('sleep', ['30'], { timeoutMs: 200 });
  assert.equal(slow.timedOut, true);
  assert.equal(slow.code, null);
  assert.equal(slow.signal, 'SIGTERM');
});

test('run reports a missing command as code 127 instead of throwing', async () => {
  const r = await run('pxekit-no-such-command', [], { timeoutMs: 5_000 });
  assert.equal(r.code, 127);
  assert.match(r.stderr, /ENOENT/);
  await assert.rejects(runOk('sh', ['-c', 'echo boom >&2; exit 1'], { timeoutMs: 5_000 }), /exit 1[\s\S]*boom/);
});

test('spawnTracked keeps output and stop() ends the process', async () => {
  const p = spawnTracked('sh', ['-c', 'echo ready; exec sleep 30']);
  await waitFor(() => p.output().includes('ready'), 5_000, 'ready line');
  assert.equal(p.exited(), false);
  await p.stop(1_000);
  assert.equal(p.exited(), true);
  assert.equal(await p.exitPromise, 'SIGTERM');
  await p.stop(); // idempotent
});

test('waitFor gives up after its bound with a clear message', async () => {
  await assert.rejects(
    waitFor(() => false, 150, 'never'),
    /timed out after 150 ms waiting for never/,
  );
  assert.equal(await waitFor(() => 42, 150), 42);
});

test('createLan rejects names that would collide or overflow', () => {
  assert.throws(() => createLan({ name: 'Bad_Name' }), /bad LAN name/);
  assert.throws(() => createLan({ name: 'waytoolongname' }), /bad LAN name/);
  assert.doesNotThrow(() => createLan({ name: 'ok1' }));
});

test('realnetAvailable names a missing tool', { skip: realnetAvailable() }, () => {
  assert.match(realnetAvailable(['pxekit-no-such-tool']) ?? '', /missing tools: pxekit-no-such-tool/);
});
