/**
 * The native addon's report path for run-time faults (core/native/fault.c, faults.ts): a fault raised on
 * another thread reaches the listener on the event loop with its errno's name; a running server logs it
 * under its event name and stops when closed (or replaced); with no listener it goes to stderr; unknown
 * events are refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { test } from 'node:test';
import { nativeBinding } from '../../../core/native/binding.js';
import { onNativeFault, type NativeFault } from '../../../core/native/faults.js';
import { createServer } from '../../../core/index.js';
import { memoryLogger } from '../dhcp-service/helpers.js';
import { waitFor } from '../../helpers/proc.js';

const binding = nativeBinding().binding;
const skip = !binding?.raiseFault && `native addon not built (${nativeBinding().reason ?? 'stale build'})`;
const { EINPROGRESS, EBADF } = constants.errno;

test(
  'a fault raised on another thread reaches the listener with its errno name; stop() ends it',
  { skip },
  async () => {
    const got: NativeFault[] = [];
    const stop = onNativeFault((f) => got.push(f));
    try {
      binding!.raiseFault!('tftp.batch.fallback', EINPROGRESS);
      await waitFor(() => got.length === 1, 5_000, 'the fault');
      assert.deepEqual(got[0], { event: 'tftp.batch.fallback', errno: EINPROGRESS, code: 'EINPROGRESS' });
    } finally {
      stop();
    }
    assert.throws(() => binding!.raiseFault!('made.up', 1), /raiseFault\(event: 'tftp.batch.fallback'/);
  },
);

test('a started server logs native faults by event name until it closes', { skip }, async (t) => {
  const { logger, lines } = memoryLogger();
  const server = createServer({
    dhcp: { mode: 'off' },
    tftp: { port: 0, address: '127.0.0.1' },
    http: { port: 0, address: '127.0.0.1' },
    logger,
  });
  await server.start();
  t.after(() => server.close());
  const faults = () =>
    lines.filter((l) => l.event === 'http.sendfile.wait.failed' || l.event === 'tftp.batch.fallback');
  binding!.raiseFault!('http.sendfile.wait.failed', EBADF);
  binding!.raiseFault!('tftp.batch.fallback', EINPROGRESS);
  await waitFor(() => faults().length === 2, 5_000, 'both fault lines');
  const byEvent = Object.fromEntries(faults().map((l) => [l.event, l]));
  assert.equal(byEvent['http.sendfile.wait.failed']!.level, 50);
  assert.equal(byEvent['http.sendfile.wait.failed']!.code, 'EBADF');
  assert.match(String(byEvent['http.sendfile.wait.failed']!.msg), /PXEKIT_SENDFILE=0/);
  assert.equal(byEvent['tftp.batch.fallback']!.level, 40);
  assert.equal(byEvent['tftp.batch.fallback']!.errno, EINPROGRESS);
  await server.close();
  // Closed: the server no longer logs them (a listener kept here sees the fault arrive).
  const seen: NativeFault[] = [];
  const stop = onNativeFault((f) => seen.push(f));
  binding!.raiseFault!('tftp.batch.fallback', EINPROGRESS);
  await waitFor(() => seen.length === 1, 5_000, 'the fault after close');
  stop();
  assert.equal(faults().length, 2);
});

test('with no listener a fault goes to stderr', { skip }, () => {
  const script = `
    import { nativeBinding } from './core/native/binding.ts';
    import { onNativeFault } from './core/native/faults.ts';
    onNativeFault(() => {})();
    nativeBinding().binding.raiseFault('tftp.batch.fallback', ${EINPROGRESS});
    setTimeout(() => {}, 300);
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /pxekit native: tftp\.batch\.fallback: EINPROGRESS/);
});
