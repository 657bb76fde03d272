/**
 * The armed replies of one event-loop turn go out together at its end (udp-batch.c). What JavaScript can
 * observe must not change: a reply deferred that way still goes before anything JavaScript then does on the
 * socket (a send, a close), and the chain tests pass in every mode (io_uring, sendmsg, off).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { NativeUdpSocket, replyBatching } from '../../../core/native/udp-socket.js';
import { REPO_ROOT } from '../../helpers/boot-assets.js';
import { ack, armBlock, chainRig, client, pattern, skip } from './chain-rig.js';

const BS = 8;
const ERROR = Buffer.from([0, 5, 0, 0, 0x78, 0]);

/**
 * A chain armed on socket A for ACK 1 and a plain socket B whose packets make JavaScript act on A (`onB`).
 * ACK 1 to A and a datagram to B are sent back to back, so the server reads both in one turn of its loop: A's
 * reply is deferred to the turn's end when B's callback runs.
 */
async function sameTurn(t: Parameters<typeof chainRig>[0], onB: (a: NativeUdpSocket) => void) {
  const data = pattern(10 * BS);
  const { fd, peer, s: a, slots } = await chainRig(t, data, BS);
  assert.equal(armBlock(a, slots, fd, data, BS, 2), true);
  const other = await client(t);
  const b = new NativeUdpSocket('127.0.0.1', '127.0.0.1', other.port, {
    onPacket: () => onB(a),
    onError: (err) => assert.fail(err),
  });
  t.after(() => b.close());
  peer.sock.send(ack(1), a.localPort, '127.0.0.1');
  other.sock.send(Buffer.from([0, 4, 0, 0]), b.localPort, '127.0.0.1');
  return { data, peer };
}

test('a send by JavaScript in the same turn leaves after the deferred reply', { skip }, async (t) => {
  const { data, peer } = await sameTurn(t, (a) => a.send(ERROR));
  const first = await peer.next();
  assert.equal(first.readUInt16BE(0), 3, 'the DATA answering ACK 1 first');
  assert.ok(first.subarray(4).equals(data.subarray(BS, 2 * BS)));
  assert.deepEqual(await peer.next(), ERROR, 'then what JavaScript sent');
});

test('a close by JavaScript in the same turn still sends the reply to the ACK read before it', { skip }, async (t) => {
  const { peer } = await sameTurn(t, (a) => a.close());
  const got = await peer.next();
  assert.equal(got.readUInt16BE(0), 3);
  assert.equal(got.readUInt16BE(2), 2, 'DATA 2 went out: the ACK came before the close');
});

test('replies go out through io_uring where the kernel has it', { skip }, () => {
  // This machine's kernel has io_uring (the CI runner too); elsewhere the batch falls back to sendmsg.
  const mode = replyBatching();
  assert.ok(mode === 'io_uring' || mode === 'sendmsg', `batched (${mode})`);
  if (process.env.PXEKIT_IO_URING !== '0' && process.env.PXEKIT_TFTP_BATCH !== '0') assert.equal(mode, 'io_uring');
});

for (const [name, env] of [
  ['sendmsg', { PXEKIT_IO_URING: '0' }],
  ['off', { PXEKIT_TFTP_BATCH: '0' }],
] as const) {
  test(`the chain tests pass with the batch in mode "${name}"`, { skip, timeout: 60_000 }, () => {
    const files = ['test/unit/tftp/chain.test.ts', 'test/unit/tftp/chain-window.test.ts'];
    const probe = `import('./core/native/udp-socket.ts').then((m) => console.log(m.replyBatching()))`;
    // Without NODE_TEST_CONTEXT: the inner runner reports as a top-level one (TAP on stdout).
    const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
    const opts = { cwd: REPO_ROOT, env: { ...outer, ...env }, encoding: 'utf8' as const, timeout: 50_000 };
    const mode = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '-e', probe], opts);
    assert.equal(mode.stdout.trim(), name, mode.stderr);
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--test', ...files], opts);
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /# fail 0/);
  });
}
