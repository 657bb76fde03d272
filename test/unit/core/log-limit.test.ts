/**
 * The rate limit for per-packet warnings (core/util/log-limit.ts), under a fake clock: the first line of a
 * kind is written at once, the rest of its interval only counted, and the count comes out in one line when the
 * interval ends (or at flush); kinds (event, errno code, key) do not hold each other back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogLimiter } from '../../../core/util/log-limit.js';
import { FakeClock } from '../../helpers/tftp-fake-clock.js';
import { memoryLogger } from '../dhcp-service/helpers.js';

function memoryLog() {
  const { logger, lines } = memoryLogger();
  return { log: logger, lines };
}

const errno = (code: string) => Object.assign(new Error(code), { code });

test('one line per kind per interval: a flood of 1000 becomes two lines, the second with the count', () => {
  const clock = new FakeClock();
  const { log, lines } = memoryLog();
  const limiter = new LogLimiter({ intervalMs: 1000, clock });
  for (let i = 0; i < 1000; i++)
    limiter.warn(log, { event: 'dhcp.socket.error', err: errno('EMSGSIZE'), n: i }, 'DHCP socket error');
  assert.equal(lines.length, 1, 'only the first is written during the interval');
  assert.equal(lines[0]!.n, 0);
  assert.equal(lines[0]!.suppressed, undefined);
  assert.equal(lines[0]!.level, 40);
  clock.advance(999);
  assert.equal(lines.length, 1);
  clock.advance(1);
  assert.equal(lines.length, 2, 'the interval ended with 999 held back: one line for them');
  assert.equal(lines[1]!.suppressed, 999);
  assert.equal(lines[1]!.n, 999, 'the last one held back is the one written');
  assert.equal(lines[1]!.msg, 'DHCP socket error');
  // A steady flood: the line above opened the next interval.
  for (let i = 0; i < 5; i++) limiter.warn(log, { event: 'dhcp.socket.error', err: errno('EMSGSIZE') }, 'again');
  assert.equal(lines.length, 2);
  clock.advance(1000);
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.suppressed, 5);
  // Quiet for an interval: the next one is written at once, with no count.
  clock.advance(5000);
  assert.equal(lines.length, 3, 'nothing held back, nothing written');
  limiter.warn(log, { event: 'dhcp.socket.error', err: errno('EMSGSIZE') }, 'after a pause');
  assert.equal(lines.length, 4);
  assert.equal(lines[3]!.suppressed, undefined);
  assert.equal(clock.armed, 0, 'no timer left while nothing is held back');
});

test('kinds are apart: another errno code, event or key is not held back; error level is kept', () => {
  const clock = new FakeClock();
  const { log, lines } = memoryLog();
  const limiter = new LogLimiter({ clock });
  limiter.warn(log, { event: 'dhcp.socket.error', err: errno('EMSGSIZE') }, 'a');
  limiter.warn(log, { event: 'dhcp.socket.error', err: errno('ENOBUFS') }, 'b');
  limiter.warn(log, { event: 'dhcp.send.error', err: errno('EMSGSIZE') }, 'c');
  limiter.warn(log, { event: 'dhcp.reply.dropped' }, 'd', 'queue-full');
  limiter.warn(log, { event: 'dhcp.reply.dropped' }, 'e', 'too-old');
  limiter.error(log, { event: 'dhcp6.socket.error', err: errno('ENETUNREACH') }, 'f');
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['a', 'b', 'c', 'd', 'e', 'f'],
  );
  assert.equal(lines[5]!.level, 50);
  limiter.warn(log, { event: 'dhcp.reply.dropped' }, 'held', 'queue-full');
  limiter.error(log, { event: 'dhcp6.socket.error', err: errno('ENETUNREACH') }, 'held too');
  assert.equal(lines.length, 6);
  clock.advance(1000);
  assert.deepEqual(
    lines.slice(6).map((l) => [l.msg, l.suppressed, l.level]),
    [
      ['held', 1, 40],
      ['held too', 1, 50],
    ],
  );
});

test('flush writes what is held back at once (close) and leaves no timer armed', () => {
  const clock = new FakeClock();
  const { log, lines } = memoryLog();
  const limiter = new LogLimiter({ clock });
  for (let i = 0; i < 3; i++) limiter.warn(log, { event: 'dhcp.send.error', err: errno('EPERM') }, 'send failed');
  assert.equal(clock.armed, 1);
  limiter.flush();
  assert.deepEqual(
    lines.map((l) => l.suppressed),
    [undefined, 2],
  );
  assert.equal(clock.armed, 0);
  clock.advance(10_000);
  assert.equal(lines.length, 2, 'nothing written twice');
});
