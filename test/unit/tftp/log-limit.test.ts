/**
 * Per-request failures of the TFTP server are rate-limited (core/util/log-limit.ts): a source that throws on
 * every read request (or a flood of requests hitting it) writes one `tftp.request.error` line, then the count
 * of the ones held back, not one line per request. Every client still gets its ERROR.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { memoryLogger } from '../dhcp-service/helpers.js';
import { startTestServer } from '../../helpers/tftp-test-server.js';

test('a source failing on every request: one tftp.request.error line and a suppressed count, an ERROR each', async (t) => {
  const { logger, lines } = memoryLogger();
  const s = await startTestServer(
    {},
    { log: logger },
    {
      resolve: () => {
        throw new Error('source down');
      },
    },
  );
  let closed = false;
  t.after(async () => {
    if (!closed) await s.stop();
  });
  const sock = createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  t.after(() => sock.close());
  const N = 40;
  let errors = 0;
  sock.on('message', (msg) => {
    if (msg.readUInt16BE(0) === 5) errors++;
  });
  for (let i = 0; i < N; i++) sock.send(Buffer.from(`\0\x01f${i}.bin\0octet\0`, 'latin1'), s.port, '127.0.0.1');
  const deadline = Date.now() + 5000;
  while (errors < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(errors, N, 'every request answered with an ERROR');
  await s.stop();
  closed = true;
  // One line per second of the flood at most (a slow machine may take longer than one interval), and the
  // lines account for every failure: the first stands for itself, a later one for its `suppressed` count.
  const logged = lines.filter((l) => l.event === 'tftp.request.error');
  assert.ok(logged.length >= 2 && logged.length <= 4, `${logged.length} lines for ${N} failures`);
  assert.equal(logged[0]!.suppressed, undefined);
  assert.equal(
    logged.reduce((n, l) => n + (typeof l.suppressed === 'number' ? l.suppressed : 1), 0),
    N,
  );
});
