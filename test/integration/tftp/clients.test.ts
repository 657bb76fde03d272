/**
 * Real TFTP clients (curl, tftp-hpa, atftp) against TftpServer on 127.0.0.1: fetched files must hash equal
 * to the source. Each client is skipped with a reason when its binary is missing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nativeUdp } from '../../../core/native/udp-socket.js';
import { waitFor } from '../../helpers/proc.js';
import { run, sha256File, which, writeRandomFile } from '../../helpers/tftp-files.js';
import { startTestServer, type TestServer } from '../../helpers/tftp-test-server.js';

const noNative = nativeUdp().available ? false : `native addon not built: ${nativeUdp().reason ?? ''}`;
const curl = which('curl');
const tftpHpa = which('tftp');
const atftp = which('atftp');

const FILES: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  one: Buffer.from('x'),
  exact512: randomBytes(512),
  exact1468x3: randomBytes(1468 * 3),
  'dir/f1M': randomBytes(1024 * 1024),
  odd: randomBytes(3 * 1024 * 1024 + 7),
};

async function withServer(
  t: { after: (fn: () => unknown) => void },
  opts = {},
): Promise<{ s: TestServer; out: string }> {
  const s = await startTestServer({}, opts);
  const out = mkdtempSync(join(tmpdir(), 'pxekit-tftp-out-'));
  t.after(async () => {
    await s.stop();
    rmSync(out, { recursive: true, force: true });
  });
  const { mkdirSync } = await import('node:fs');
  for (const [name, data] of Object.entries(FILES)) {
    mkdirSync(join(s.root, name, '..'), { recursive: true });
    writeFileSync(join(s.root, name), data);
  }
  return { s, out };
}

async function expectSame(s: TestServer, name: string, local: string, client: string): Promise<void> {
  assert.equal(await sha256File(local), await sha256File(join(s.root, name)), `${client}: ${name} differs`);
}

type Fetch = (port: number, name: string, local: string) => Promise<{ code: number | null; stderr: string }>;

const clients: { name: string; bin: string | undefined; fetch: Fetch }[] = [
  {
    name: 'curl --tftp-blksize 1468',
    bin: curl,
    fetch: (port, name, local) =>
      run(curl!, ['-s', '-S', '--tftp-blksize', '1468', '-o', local, `tftp://127.0.0.1:${port}/${name}`], 60_000),
  },
  {
    name: 'curl (blksize 512)',
    bin: curl,
    fetch: (port, name, local) => run(curl!, ['-s', '-S', '-o', local, `tftp://127.0.0.1:${port}/${name}`], 60_000),
  },
  {
    name: 'curl --tftp-blksize 8192 (clamped to 1468)',
    bin: curl,
    fetch: (port, name, local) =>
      run(curl!, ['-s', '-S', '--tftp-blksize', '8192', '-o', local, `tftp://127.0.0.1:${port}/${name}`], 60_000),
  },
  {
    name: 'tftp-hpa (no options, 512-byte blocks)',
    bin: tftpHpa,
    fetch: (port, name, local) =>
      run(tftpHpa!, ['127.0.0.1', String(port), '-m', 'binary', '-c', 'get', name, local], 60_000),
  },
  {
    name: 'atftp blksize 1468 windowsize 8',
    bin: atftp,
    fetch: (port, name, local) =>
      run(
        atftp!,
        [
          '--option',
          'blksize 1468',
          '--option',
          'windowsize 8',
          '-g',
          '-r',
          name,
          '-l',
          local,
          '127.0.0.1',
          String(port),
        ],
        60_000,
      ),
  },
  {
    name: 'atftp tsize blksize 1024',
    bin: atftp,
    fetch: (port, name, local) =>
      run(
        atftp!,
        ['--option', 'tsize', '--option', 'blksize 1024', '-g', '-r', name, '-l', local, '127.0.0.1', String(port)],
        60_000,
      ),
  },
  {
    name: 'atftp (no options)',
    bin: atftp,
    fetch: (port, name, local) => run(atftp!, ['-g', '-r', name, '-l', local, '127.0.0.1', String(port)], 60_000),
  },
];

// Every client through both transfer socket kinds: the native addon (the default when built) and node:dgram.
for (const transport of ['native', 'dgram'] as const)
  for (const c of clients) {
    test(
      `real client (${transport} sockets): ${c.name}`,
      { skip: (!c.bin && `${c.name.split(' ')[0]} not installed`) || (transport === 'native' && noNative) },
      async (t) => {
        const { s, out } = await withServer(t, { transport });
        for (const name of Object.keys(FILES)) {
          const local = join(out, name.replace('/', '_'));
          const r = await c.fetch(s.port, name, local);
          assert.equal(r.code, 0, `${c.name} ${name}: exit ${r.code} ${r.stderr}`);
          await expectSame(s, name, local, c.name);
        }
        const done = s.events.filter((e) => e.type === 'tftp.done').length;
        assert.equal(done, Object.keys(FILES).length);
      },
    );
  }

test(
  'real client in single-port mode: curl and atftp windowed',
  { skip: !(curl && atftp) && 'curl or atftp missing' },
  async (t) => {
    const { s, out } = await withServer(t, { singlePort: true });
    const a = await run(
      curl!,
      ['-s', '-S', '--tftp-blksize', '1468', '-o', join(out, 'c'), `tftp://127.0.0.1:${s.port}/odd`],
      60_000,
    );
    assert.equal(a.code, 0, a.stderr);
    await expectSame(s, 'odd', join(out, 'c'), 'curl single-port');
    const b = await run(
      atftp!,
      [
        '--option',
        'blksize 1468',
        '--option',
        'windowsize 16',
        '-g',
        '-r',
        'odd',
        '-l',
        join(out, 'a'),
        '127.0.0.1',
        String(s.port),
      ],
      60_000,
    );
    assert.equal(b.code, 0, b.stderr);
    await expectSame(s, 'odd', join(out, 'a'), 'atftp single-port');
  },
);

test(
  '100 MiB at blksize 512 through curl: block numbers roll over (204800 blocks)',
  { skip: !curl && 'curl not installed', timeout: 180_000 },
  async (t) => {
    const { s, out } = await withServer(t);
    writeRandomFile(join(s.root, 'big'), 100);
    const local = join(out, 'big');
    const r = await run(
      curl!,
      ['-s', '-S', '--tftp-blksize', '512', '-o', local, `tftp://127.0.0.1:${s.port}/big`],
      170_000,
    );
    assert.equal(r.code, 0, r.stderr);
    await expectSame(s, 'big', local, 'curl 100 MiB');
    const done = await s.waitEvent('tftp.done');
    assert.ok(done.type === 'tftp.done');
    assert.equal(done.blocks, 204801); // 100 MiB / 512 = 204800 full blocks + the empty last block
    t.diagnostic(
      `100 MiB @512 lock-step: ${(100 / (done.durationMs / 1000)).toFixed(1)} MiB/s, ${done.retransmits} retransmits`,
    );
  },
);

test(
  'native sockets, 60 clients at once (curl, tftp-hpa, atftp mixed): every file right, one tftp.done each, no error',
  { skip: (!(curl && tftpHpa && atftp) && 'curl, tftp-hpa or atftp missing') || noNative, timeout: 120_000 },
  async (t) => {
    // Completion accounting under concurrency: audit and metrics count tftp.done, so none may be lost when
    // the chain's replies of one event-loop turn go out together (udp-batch.c) and ACKs arrive at once.
    // Every client is 127.0.0.1: the per-client cap (busy ERROR beyond it) would refuse most of them.
    const { s, out } = await withServer(t, { transport: 'native', maxPerClient: 100, maxTransfers: 100 });
    const mixed = [clients[0]!, clients[3]!, clients[5]!]; // curl 1468, tftp-hpa 512, atftp tsize 1024
    const names = Object.keys(FILES);
    const jobs = Array.from({ length: 60 }, (_, i) => ({ c: mixed[i % 3]!, name: names[i % names.length]!, i }));
    const results = await Promise.all(
      jobs.map(async (j) => {
        const local = join(out, `${j.i}-${j.name.replace('/', '_')}`);
        return { ...j, local, r: await j.c.fetch(s.port, j.name, local) };
      }),
    );
    for (const { c, name, local, r } of results) {
      assert.equal(r.code, 0, `${c.name} ${name}: exit ${r.code} ${r.stderr}`);
      await expectSame(s, name, local, c.name);
    }
    const done = () => s.events.filter((e) => e.type === 'tftp.done').length;
    await waitFor(() => done() >= jobs.length, 5_000, `${jobs.length} tftp.done events`).catch(() => undefined);
    const errors = s.events.filter((e) => e.type === 'tftp.error');
    assert.deepEqual(errors, [], 'no transfer ended in error');
    assert.equal(done(), jobs.length, 'one tftp.done per transfer');
  },
);
