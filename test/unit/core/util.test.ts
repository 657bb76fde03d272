import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBase, raceTimer, unmapIpv4 } from 'pxekit/kit';

test('unmapIpv4 unwraps only the dotted IPv4-mapped form, in any case', () => {
  assert.equal(unmapIpv4('::ffff:10.0.0.5'), '10.0.0.5');
  assert.equal(unmapIpv4('::FFFF:10.0.0.5'), '10.0.0.5');
  assert.equal(unmapIpv4('10.0.0.5'), '10.0.0.5');
  assert.equal(unmapIpv4('::ffff:a00:5'), '::ffff:a00:5');
  assert.equal(unmapIpv4('fe80::1'), 'fe80::1');
  assert.equal(unmapIpv4(''), '');
});

test('raceTimer: the work when it wins, the fallback (or its throw) when the timer does', async () => {
  assert.equal(await raceTimer(Promise.resolve('done'), 1000, () => 'late'), 'done');
  assert.equal(await raceTimer(new Promise(() => {}), 10, () => 'late'), 'late');
  await assert.rejects(
    raceTimer(new Promise(() => {}), 10, (): never => {
      throw new Error('too slow');
    }),
    /too slow/,
  );
  await assert.rejects(
    raceTimer(Promise.reject(new Error('work failed')), 1000, () => 'late'),
    /work failed/,
  );
});

test('raceTimer clears its timer whichever way the race ends, so nothing keeps the process alive', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  await raceTimer(Promise.resolve(1), 60_000, () => 0);
  await raceTimer(Promise.reject(new Error('x')), 60_000, () => 0).catch(() => undefined);
  await raceTimer(new Promise(() => {}), 5, () => 0);
  assert.equal(timers(), before);
});

test('fromBase: relative option paths start at the base folder, absolute ones stay, undefined stays', () => {
  assert.equal(fromBase('/etc/pxekit', 'tftp'), '/etc/pxekit/tftp');
  assert.equal(fromBase('/etc/pxekit', '../srv/boot'), '/etc/srv/boot');
  assert.equal(fromBase('/etc/pxekit', '/srv/boot'), '/srv/boot');
  assert.equal(fromBase('/etc/pxekit', undefined), undefined);
});
