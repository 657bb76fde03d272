/**
 * Transfers through a lossy loopback proxy (10% loss each way, duplicates, reordering): bytes stay identical
 * in lock-step and windowed mode, and duplicated ACKs do not snowball into duplicate sends.
 * (netem inside a namespace, with real clients, is the later realnet test; this one needs no root.)
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { tftpGet } from '../../helpers/tftp-client.js';
import { startLossyProxy } from '../../helpers/tftp-lossy-proxy.js';
import { startTestServer } from '../../helpers/tftp-test-server.js';

const FILE = randomBytes(300_000);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const cases = [
  { name: 'lock-step blksize 512', options: {} as Record<string, string> },
  { name: 'lock-step blksize 1468', options: { blksize: '1468' } },
  { name: 'windowsize 8 blksize 1468', options: { blksize: '1468', windowsize: '8' } },
  {
    name: 'windowsize 16 blksize 1024 (single-port)',
    options: { blksize: '1024', windowsize: '16' },
    singlePort: true,
  },
];

for (const [i, c] of cases.entries()) {
  test(`10% loss, 5% duplicates, 10% reordering: ${c.name}`, { timeout: 120_000 }, async (t) => {
    const s = await startTestServer(
      { f: FILE },
      { defaultTimeoutMs: 40, retries: 30, singlePort: c.singlePort ?? false },
    );
    const proxy = await startLossyProxy({
      serverPort: s.port,
      loss: 0.1,
      duplicate: 0.05,
      reorder: 0.1,
      seed: 1000 + i,
    });
    t.after(async () => {
      proxy.close();
      await s.stop();
    });
    const r = await tftpGet({
      port: proxy.port,
      file: 'f',
      options: c.options,
      timeoutMs: 60,
      retries: 40,
      totalTimeoutMs: 100_000,
      dallyMs: 1000,
    });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.sha256, sha(FILE));
    const done = await s.waitEvent('tftp.done');
    assert.ok(done.type === 'tftp.done');
    assert.equal(done.bytes, FILE.length);
    assert.ok(proxy.stats.dropped > 0, 'the proxy dropped nothing: the test did not test loss');
    // Bounded waste: retransmissions stay within a small multiple of the blocks (no Sorcerer's Apprentice).
    // (Go-back-N at 10% loss costs about windowsize × loss resends per block; a snowball costs far more.)
    assert.ok(done.retransmits < done.blocks * 4, `${done.retransmits} retransmits for ${done.blocks} blocks`);
    t.diagnostic(
      `${c.name}: ${done.blocks} blocks, ${done.retransmits} retransmitted; proxy ${JSON.stringify(proxy.stats)}`,
    );
  });
}
