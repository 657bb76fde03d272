/** TftpServer over real UDP on 127.0.0.1 (ephemeral ports), driven by the test client and raw packets. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { nativeUdp } from '../../../core/native/udp-socket.js';
import { encodeAck, encodeRequest } from '../../../core/tftp/codec.js';
import { rawPeer, tftpGet } from '../../helpers/tftp-client.js';
import { dirResolver } from '../../helpers/tftp-dir-source.js';
import { startTestServer } from '../../helpers/tftp-test-server.js';

const noNative = nativeUdp().available ? false : `native addon not built: ${nativeUdp().reason ?? ''}`;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const FILE = randomBytes(100_000);

test('serves a file with and without options; OACK carries only what was asked', async (t) => {
  const s = await startTestServer({ 'f.bin': FILE });
  t.after(() => s.stop());
  const plain = await tftpGet({ port: s.port, file: 'f.bin' });
  assert.equal(plain.sha256, sha(FILE));
  assert.equal(plain.oack, undefined);

  const opt = await tftpGet({ port: s.port, file: '/f.bin', options: { blksize: '1468', windowsize: '8', foo: 'x' } });
  assert.equal(opt.sha256, sha(FILE));
  assert.deepEqual(opt.oack, { blksize: '1468', windowsize: '8' });
  assert.notEqual(opt.serverPort, s.port, 'RFC 1350: a new transfer ID per transfer');

  const big = await tftpGet({
    port: s.port,
    file: 'f.bin',
    options: { blksize: '9000', tsize: '0', windowsize: '500' },
  });
  assert.deepEqual(big.oack, { blksize: '1468', tsize: String(FILE.length), windowsize: '64' });
  assert.equal(big.sha256, sha(FILE));
  const done = await s.waitEvent('tftp.done', (e) => e.type === 'tftp.done' && e.windowsize === 64);
  assert.ok(done.type === 'tftp.done' && done.bytes === FILE.length && done.blksize === 1468);
});

test('EDK2 size probe: tsize=0, OACK, ERROR 8 → tftp.probe, then the real download', async (t) => {
  const s = await startTestServer({ 'ipxe.efi': FILE });
  t.after(() => s.stop());
  const probe = await tftpGet({
    port: s.port,
    file: 'ipxe.efi',
    options: { tsize: '0', blksize: '1468', windowsize: '4' },
    abortAfterOack: { code: 8, message: 'User aborted the transfer' },
  });
  assert.equal(probe.oack?.tsize, String(FILE.length));
  const ev = await s.waitEvent('tftp.probe');
  assert.ok(ev.type === 'tftp.probe' && ev.tsize === FILE.length);
  const real = await tftpGet({ port: s.port, file: 'ipxe.efi', options: { blksize: '1468', windowsize: '4' } });
  assert.equal(real.sha256, sha(FILE));
  assert.equal(s.events.filter((e) => e.type === 'tftp.error').length, 0, 'a probe is not an error');
});

test('netascii: converted bytes, tsize is the converted size', async (t) => {
  const s = await startTestServer({ 'cfg.txt': 'line1\nline2\r\n' });
  t.after(() => s.stop());
  const r = await tftpGet({ port: s.port, file: 'cfg.txt', mode: 'netascii', options: { tsize: '0' }, keep: true });
  assert.deepEqual(r.data, Buffer.from('line1\r\nline2\r\0\r\n'));
  assert.equal(r.oack?.tsize, String(r.data?.length));
});

test('not found → ERROR 1; unsupported mode → ERROR 4; write request → ERROR 2 read-only', async (t) => {
  const s = await startTestServer({ a: 'a' });
  t.after(() => s.stop());
  const nf = await tftpGet({ port: s.port, file: 'missing' });
  assert.equal(nf.error?.code, 1);
  const mail = await tftpGet({ port: s.port, file: 'a', mode: 'mail' });
  assert.equal(mail.error?.code, 4);
  const peer = await rawPeer();
  t.after(() => peer.close());
  peer.send(encodeRequest('wrq', 'upload', 'octet'), s.port);
  const r = await peer.next();
  assert.ok(r?.pkt.op === 'error' && r.pkt.code === 2 && r.pkt.message === 'read-only server');
  await s.waitEvent('tftp.denied');
});

test('path traversal attempts are refused before any resolver call', async (t) => {
  const s = await startTestServer({ ok: 'ok' });
  t.after(() => s.stop());
  for (const p of [
    '../etc/passwd',
    '/../../etc/passwd',
    'a/../../x',
    '..\\..\\etc\\passwd',
    '%2e%2e/etc/passwd',
    'x/%2E%2E/y',
  ]) {
    const r = await tftpGet({ port: s.port, file: p });
    assert.equal(r.error?.code, 2, p);
  }
  assert.deepEqual(s.resolved, []);
  const ok = await tftpGet({ port: s.port, file: '\\ok', keep: true });
  assert.equal(ok.data?.toString(), 'ok');
  assert.deepEqual(s.resolved, ['/ok']);
});

test('readRequest can deny with a reason or map the path; negotiate can clamp', async (t) => {
  const s = await startTestServer(
    { 'default.cfg': 'default', 'mac.cfg': 'per-mac', secret: 's' },
    {},
    {
      readRequest: async (req) => {
        if (req.normalizedPath === '/secret') return { deny: 'not for you' };
        if (req.normalizedPath === '/boot.cfg') return { path: '/mac.cfg' };
        return undefined;
      },
      negotiate: (o) => ({ ...o, blksize: Math.min(o.blksize ?? 512, 1024) }),
    },
  );
  t.after(() => s.stop());
  const denied = await tftpGet({ port: s.port, file: 'secret' });
  assert.deepEqual(denied.error, { code: 2, message: 'not for you' });
  const mapped = await tftpGet({ port: s.port, file: 'boot.cfg', keep: true, options: { blksize: '1468' } });
  assert.equal(mapped.data?.toString(), 'per-mac');
  assert.equal(mapped.oack?.blksize, '1024');
});

test('malformed packets get ERROR 4 (or are dropped) and never stop the server', async (t) => {
  const s = await startTestServer({ f: FILE });
  t.after(() => s.stop());
  const peer = await rawPeer();
  t.after(() => peer.close());
  const bad = [
    randomBytes(65507), // the largest UDP/IPv4 payload
    Buffer.from([0, 9, 0, 0]),
    Buffer.from('\u0000\u0001file-without-nul'),
    Buffer.from('\u0000\u0001f\u0000octet\u0000blksize\u0000'),
    Buffer.from([0]),
  ];
  bad[0]!.writeUInt16BE(0x1234, 0);
  for (const b of bad) {
    peer.send(b, s.port);
    const r = await peer.next();
    assert.ok(r?.pkt.op === 'error' && r.pkt.code === 4, `no ERROR 4 for ${b.subarray(0, 8).toString('hex')}`);
  }
  peer.send(Buffer.from([0, 5, 0]), s.port); // broken ERROR: dropped, never answered
  assert.equal(await peer.next(300), undefined);
  for (const blksize of ['0', '70000', 'abc']) {
    const r = await tftpGet({ port: s.port, file: 'f', options: { blksize } });
    assert.equal(r.oack, undefined, `blksize=${blksize} must be ignored`);
    assert.equal(r.sha256, sha(FILE));
  }
});

test('limits: a refused request gets an error packet, not silence', async (t) => {
  const s = await startTestServer({ f: FILE }, { maxPerClient: 1, maxTransfers: 2, defaultTimeoutMs: 2000 });
  t.after(() => s.stop());
  const first = await rawPeer();
  const second = await rawPeer();
  t.after(() => (first.close(), second.close()));
  first.send(encodeRequest('rrq', 'f', 'octet'), s.port);
  assert.equal((await first.next())?.pkt.op, 'data');
  second.send(encodeRequest('rrq', 'f', 'octet'), s.port);
  const r = await second.next();
  assert.ok(r?.pkt.op === 'error' && r.pkt.code === 0 && /busy/.test(r.pkt.message), JSON.stringify(r?.pkt));
});

test('a retransmitted RRQ does not start a second transfer', async (t) => {
  const s = await startTestServer({ f: FILE });
  t.after(() => s.stop());
  const peer = await rawPeer();
  t.after(() => peer.close());
  const rrq = encodeRequest('rrq', 'f', 'octet', [['blksize', '1024']]);
  peer.send(rrq, s.port);
  peer.send(rrq, s.port);
  const a = await peer.next();
  assert.equal(a?.pkt.op, 'oack');
  assert.equal(await peer.next(300), undefined);
  assert.equal(s.server.activeTransfers, 1);
});

test('a vanished client frees its session and stream within timeout × retries', async (t) => {
  let destroyed = 0;
  const s = await startTestServer(
    { f: FILE },
    { defaultTimeoutMs: 40, retries: 2 },
    {
      resolve: async (path) => ({
        path,
        size: FILE.length,
        source: 'mem',
        open: async () => {
          const { Readable } = await import('node:stream');
          const r = Readable.from([FILE]);
          r.once('close', () => destroyed++);
          return r;
        },
      }),
    },
  );
  t.after(() => s.stop());
  const peer = await rawPeer();
  t.after(() => peer.close());
  peer.send(encodeRequest('rrq', 'f', 'octet'), s.port);
  assert.equal((await peer.next())?.pkt.op, 'data');
  const ev = await s.waitEvent('tftp.error', undefined, 3000);
  assert.ok(ev.type === 'tftp.error' && ev.outcome === 'timeout');
  assert.equal(s.server.activeTransfers, 0);
  assert.equal(destroyed, 1);
});

test('single-port mode: every transfer is served from the listening port', async (t) => {
  const s = await startTestServer({ a: FILE, b: randomBytes(5000) }, { singlePort: true });
  t.after(() => s.stop());
  const [a, b] = await Promise.all([
    tftpGet({ port: s.port, file: 'a', options: { blksize: '1468', windowsize: '4' } }),
    tftpGet({ port: s.port, file: 'b' }),
  ]);
  assert.equal(a.sha256, sha(FILE));
  assert.equal(a.serverPort, s.port);
  assert.equal(b.serverPort, s.port);
  assert.equal(b.bytes, 5000);
  // A stray ACK on the shared port for no transfer is dropped.
  const peer = await rawPeer();
  t.after(() => peer.close());
  peer.send(encodeAck(1), s.port);
  assert.equal(await peer.next(200), undefined);
});

test('close(): stops accepting, aborts what does not finish within the grace period', async (t) => {
  const s = await startTestServer({ f: FILE }, { closeGraceMs: 100, defaultTimeoutMs: 5000 });
  const peer = await rawPeer();
  t.after(() => peer.close());
  peer.send(encodeRequest('rrq', 'f', 'octet'), s.port);
  assert.equal((await peer.next())?.pkt.op, 'data');
  await s.stop();
  const r = await peer.next();
  assert.ok(r?.pkt.op === 'error' && /shutting down/.test(r.pkt.message));
  assert.equal(s.server.activeTransfers, 0);
});

for (const transport of ['native', 'dgram'] as const) {
  test(
    `a client whose port closed (ICMP port unreachable) ends its transfer at the next send, not after the retries (${transport} sockets)`,
    { skip: transport === 'native' && noNative },
    async (t) => {
      const s = await startTestServer({ f: FILE }, { transport, defaultTimeoutMs: 300, retries: 5 });
      t.after(() => s.stop());
      const peer = await rawPeer();
      peer.send(encodeRequest('rrq', 'f', 'octet'), s.port);
      assert.equal((await peer.next())?.pkt.op, 'data');
      const started = performance.now();
      peer.close(); // the retransmission of DATA 1 after 300 ms meets a closed port
      const ev = await s.waitEvent('tftp.error', undefined, 3000);
      assert.ok(
        ev.type === 'tftp.error' && ev.outcome === 'aborted' && /unreachable \(ECONNREFUSED\)/.test(ev.reason),
        JSON.stringify(ev),
      );
      assert.ok(
        performance.now() - started < 1500,
        'ended at the first retransmission, long before 5 × 300 ms of retries',
      );
      assert.equal(s.server.activeTransfers, 0);
    },
  );
}

test('transport "native" refuses to start without the addon rather than silently using dgram', async () => {
  const { TftpServer } = await import('../../../core/tftp/server.js');
  const { default: pino } = await import('pino');
  const single = new TftpServer(
    { port: 0, address: '127.0.0.1', log: pino({ level: 'silent' }), transport: 'native', singlePort: true },
    { resolve: async () => undefined },
  );
  await assert.rejects(
    single.listen(),
    /tftp\.transport is "native" but native transfer sockets are unavailable: singlePort mode.*Fix:/,
  );
});

for (const native of [true, false]) {
  test(
    `a file cut short mid-transfer (${native ? 'native chain' : 'JavaScript reads'}): ERROR 0 "read error", no wrong block`,
    { skip: native && noNative },
    async (t) => {
      const BS = 1468;
      const data = randomBytes(200 * BS);
      // native: the test source with its descriptor and page-cache reads, as source-disk's (the chain runs).
      const source: { resolve?: ReturnType<typeof dirResolver> } = {};
      const s = await startTestServer({ 'cut.bin': data }, {}, { resolve: (path) => source.resolve!(path) });
      t.after(() => s.stop());
      source.resolve = dirResolver(s.root, { native });
      const peer = await rawPeer();
      t.after(() => peer.close());
      peer.send(encodeRequest('rrq', 'cut.bin', 'octet', [['blksize', String(BS)]]), s.port);
      const oack = await peer.next();
      assert.equal(oack?.pkt.op, 'oack');
      const port = oack.rinfo.port;
      peer.send(encodeAck(0), port);
      let error: { code: number; message: string } | undefined;
      for (let i = 0; i < 300 && !error; i++) {
        const got = await peer.next();
        assert.ok(got, 'the server answers every ACK (a block or an error)');
        if (got.pkt.op === 'error') error = { code: got.pkt.code, message: got.pkt.message };
        else if (got.pkt.op === 'data') {
          const b = got.pkt.block;
          assert.ok(got.pkt.data.equals(data.subarray((b - 1) * BS, b * BS)), `block ${b} is the file's`);
          // Far past the new end: the chain's next block lies in pages the file no longer has.
          if (b === 20) truncateSync(join(s.root, 'cut.bin'), 5 * BS);
          peer.send(encodeAck(b), port);
        }
      }
      assert.deepEqual(error, { code: 0, message: 'read error' });
      const ev = await s.waitEvent('tftp.error', (e) => e.type === 'tftp.error' && e.outcome === 'read-error');
      const why = native ? /pread EIO/ : /came up short at byte \d+ of the 293600 announced/;
      assert.ok(ev.type === 'tftp.error' && why.test(ev.reason), ev.type === 'tftp.error' ? ev.reason : '');
    },
  );
}
