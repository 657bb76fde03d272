/**
 * A flood of oversized datagrams on the DHCP listener's native socket (each one an EMSGSIZE error) writes one
 * `dhcp.socket.error` line per interval, not one per datagram: the first at once, the rest counted and written
 * as one line with `suppressed` when the listener closes (the clock is frozen, so no interval ends meanwhile).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { DhcpListener } from '../../../core/dhcp/listener.js';
import { DHCP_SLOT_BYTES, nativeDhcpAvailable } from '../../../core/native/dhcp-socket.js';
import { FakeClock } from '../../helpers/tftp-fake-clock.js';
import { memoryLogger } from '../dhcp-service/helpers.js';

const skip = !nativeDhcpAvailable() && 'native DHCP socket not available (addon not built, or PXEKIT_NATIVE_DHCP=0)';

test('native DHCP socket: 300 oversized datagrams give two dhcp.socket.error lines, not 300', { skip }, async (t) => {
  const { logger: log, lines } = memoryLogger('info');
  const small: string[] = [];
  const listener = new DhcpListener({
    port: 0,
    pxePort: undefined,
    addresses: [],
    log,
    logClock: new FakeClock(),
    onPacket: (inc) => {
      small.push(inc.buffer.toString());
      return Promise.resolve(undefined);
    },
  });
  await listener.listen();
  t.after(() => listener.close(0));
  assert.equal(listener.transport, 'native');
  const client = createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  t.after(() => client.close());
  const N = 300;
  const big = Buffer.alloc(DHCP_SLOT_BYTES + 500, 0x41);
  for (let i = 0; i < N; i++) {
    client.send(big, listener.port('dhcp')!, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5)); // stay under the receive buffer
  }
  client.send(Buffer.from('last'), listener.port('dhcp')!, '127.0.0.1');
  const deadline = Date.now() + 10_000;
  while (!small.includes('last') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(small, ['last'], 'the small datagram after the flood still arrives (one socket, in order)');
  const during = lines.filter((l) => l.event === 'dhcp.socket.error');
  assert.equal(during.length, 1, 'one line while the flood lasts');
  assert.equal((during[0]!.err as { code?: string }).code, 'EMSGSIZE');
  await listener.close(0);
  const all = lines.filter((l) => l.event === 'dhcp.socket.error');
  assert.equal(all.length, 2, 'close writes the held-back count');
  const counted = 1 + Number(all[1]!.suppressed);
  assert.ok(
    counted > N / 2 && counted <= N,
    `${counted} of ${N} oversized datagrams counted (loopback may drop a few)`,
  );
});
