/**
 * Real clients (curl lock-step, atftp windowsize 8, tftp-hpa) against the whole server through a lossy
 * loopback proxy: 10% loss each way, 25% reordering, some duplicates. Runs without root; netem.test.ts is
 * the same with kernel netem inside namespaces (skipped where the kernel has no sch_netem).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { definePlugin } from '../../../core/plugin.js';
import { startLossyProxy } from '../../helpers/tftp-lossy-proxy.js';
import { run, sha256File, which } from '../../helpers/tftp-files.js';
import { startPxeTftp } from '../../helpers/tftp-pxe-server.js';

const curl = which('curl');
const atftp = which('atftp');
const tftpHpa = which('tftp');

const cases: {
  name: string;
  bin: string | undefined;
  size: number;
  args: (port: number, local: string) => string[];
}[] = [
  {
    name: 'curl --tftp-blksize 1468',
    bin: curl,
    size: 256 * 1024 + 9,
    args: (port, local) => [
      '-s',
      '-S',
      '--max-time',
      '100',
      '--tftp-blksize',
      '1468',
      '-o',
      local,
      `tftp://127.0.0.1:${port}/f`,
    ],
  },
  {
    name: 'atftp blksize 1468 windowsize 8',
    bin: atftp,
    size: 1024 * 1024 + 3,
    args: (port, local) => [
      '--option',
      'blksize 1468',
      '--option',
      'windowsize 8',
      '-g',
      '-r',
      'f',
      '-l',
      local,
      '127.0.0.1',
      String(port),
    ],
  },
  {
    name: 'tftp-hpa (512 lock-step)',
    bin: tftpHpa,
    size: 128 * 1024 + 1,
    args: (port, local) => ['127.0.0.1', String(port), '-m', 'binary', '-c', 'get', 'f', local],
  },
];

/**
 * curl always asks `timeout 5`, and RFC 2349 makes the server wait that long before resending: 10% loss
 * would cost minutes. The negotiate hook may drop the option (never change it), so the server's own
 * 100 ms timeout applies: the same thing an operator's quirk plugin would do on a lossy segment.
 */
const dropTimeout = definePlugin({
  name: 'drop-timeout',
  apply(server) {
    server.tftp.hooks.negotiate.tap('drop-timeout', ({ timeout: _drop, ...rest }) => rest);
  },
});

// The server's retransmission backoff (100 ms doubling to 8 s) must outlast atftp's own 5 s timeout: on a
// repeated window atftp sends ONE ACK and ignores the repeats until that timeout (Debian's windowsize
// patch), so if that ACK is lost only atftp's timeout gets the transfer going again (see transfer.ts).
for (const [i, c] of cases.entries()) {
  test(
    `lossy link, real client through the whole server: ${c.name}`,
    { skip: !c.bin && `${c.name.split(' ')[0]} not installed`, timeout: 150_000 },
    async (t) => {
      const data = randomBytes(c.size);
      const f = await startPxeTftp({
        files: { f: data },
        tftp: { timeoutMs: 100, retries: 12 },
        plugins: [dropTimeout],
      });
      const proxy = await startLossyProxy({
        serverPort: f.port,
        loss: 0.1,
        duplicate: 0.02,
        reorder: 0.25,
        seed: 4242 + i,
      });
      const out = mkdtempSync(join(tmpdir(), 'pxekit-tftp-lossy-'));
      t.after(async () => {
        proxy.close();
        await f.stop();
        rmSync(out, { recursive: true, force: true });
      });
      const local = join(out, 'f');
      const r = await run(c.bin!, c.args(proxy.port, local), 120_000);
      assert.equal(r.code, 0, `${c.name}: exit ${r.code} ${r.stderr}`);
      assert.equal(await sha256File(local), await sha256File(join(f.root, 'f')), `${c.name}: bytes differ`);
      assert.ok(proxy.stats.dropped > 0, 'the proxy dropped nothing: loss was not tested');
      // The last ACK may be the one lost: the server then retransmits (backing off) into a port nobody reads
      // and ends with an error, not tftp.done (RFC 1350 §6: the client's dally is optional). The bytes above
      // are what count; whatever the server recorded so far is only a diagnostic.
      const end = f.events.find((e) => e.type === 'tftp.done' || e.type === 'tftp.error');
      const ended = end ? `${end.type} ${JSON.stringify(end.data)}` : 'still retransmitting the last block';
      t.diagnostic(`${c.name}: ${ended}; proxy ${JSON.stringify(proxy.stats)}`);
    },
  );
}
