/**
 * TFTP through the whole pxekit server (createServer, TftpService, the real source-disk plugin) with real
 * clients on 127.0.0.1: bytes identical, boot events and session bytes recorded, a denied MAC gets one
 * ERROR 2 and nothing else, and EDK2's tsize probe (captured packets) is a probe, not a failure.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePacket, encodeAck, type TftpPacket } from '../../../core/tftp/codec.js';
import macAllowlist from '../../../plugins/mac-allowlist/index.js';
import { run, sha256File, which } from '../../helpers/tftp-files.js';
import type { PluginDefinition } from '../../../core/plugin.js';
import { startPxeTftp } from '../../helpers/tftp-pxe-server.js';
import { loadFixture } from '../../helpers/fixtures.js';

const curl = which('curl');
const tftpHpa = which('tftp');
const atftp = which('atftp');
const fixture = (name: string): Buffer => loadFixture(`tftp/${name}`);

const MAC = '52:54:00:12:34:56';
const FILES = { 'ipxe/undionly.kpxe': randomBytes(70_001), 'boot/f1M': randomBytes(1024 * 1024 + 3) };

async function withServer(t: { after: (fn: () => unknown) => void }, plugins: PluginDefinition[] = []) {
  const f = await startPxeTftp({ files: FILES, plugins });
  const out = mkdtempSync(join(tmpdir(), 'pxekit-tftp-pxe-out-'));
  t.after(async () => {
    await f.stop();
    rmSync(out, { recursive: true, force: true });
  });
  return { f, out };
}

type Fetch = (port: number, name: string, local: string) => Promise<{ code: number | null; stderr: string }>;
const clients: { name: string; bin: string | undefined; fetch: Fetch; opts: Record<string, unknown> }[] = [
  {
    name: 'curl --tftp-blksize 1468',
    bin: curl,
    opts: { blksize: 1468, windowsize: 1 },
    fetch: (port, name, local) =>
      run(curl!, ['-s', '-S', '--tftp-blksize', '1468', '-o', local, `tftp://127.0.0.1:${port}/${name}`], 60_000),
  },
  {
    name: 'tftp-hpa (512-byte lock-step)',
    bin: tftpHpa,
    opts: { blksize: 512, windowsize: 1 },
    fetch: (port, name, local) =>
      run(tftpHpa!, ['127.0.0.1', String(port), '-m', 'binary', '-c', 'get', name, local], 60_000),
  },
  {
    name: 'atftp tsize blksize 1468 windowsize 8',
    bin: atftp,
    opts: { blksize: 1468, windowsize: 8 },
    fetch: (port, name, local) =>
      run(
        atftp!,
        [
          '--option',
          'tsize',
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
];

for (const c of clients) {
  test(
    `whole server, real client: ${c.name}`,
    { skip: !c.bin && `${c.name.split(' ')[0]} not installed` },
    async (t) => {
      const { f, out } = await withServer(t);
      const session = f.server.sessions.upsert(MAC, { ip: '127.0.0.1' });
      let total = 0;
      for (const name of Object.keys(FILES)) {
        const local = join(out, name.replace('/', '_'));
        const r = await c.fetch(f.port, name, local);
        assert.equal(r.code, 0, `${c.name} ${name}: exit ${r.code} ${r.stderr}`);
        assert.equal(await sha256File(local), await sha256File(join(f.root, name)), `${c.name}: ${name} differs`);
        const done = await f.waitEvent('tftp.done', (e) => e.data.path === `/${name}`);
        assert.equal(done.mac, MAC);
        assert.equal(done.session, session);
        assert.equal(done.data.bytes, FILES[name as keyof typeof FILES].length);
        assert.equal(done.data.source, 'source-disk');
        for (const [k, v] of Object.entries(c.opts)) assert.equal(done.data[k], v, `${k} of ${name}`);
        assert.equal(typeof done.data.durationMs, 'number');
        total += FILES[name as keyof typeof FILES].length;
      }
      assert.equal(session.bytes, total);
      assert.deepEqual(
        session.files,
        Object.keys(FILES).map((n) => `/${n}`),
      );
      assert.equal(session.stage, 'tftp');
      assert.equal(f.events.filter((e) => e.type === 'tftp.request').length, 2);
      assert.ok(!f.events.some((e) => e.type === 'tftp.error'), 'no error events');
      assert.equal(
        f.logs.filter((l) => l.event === 'tftp.done' && l.level === 30).length,
        2,
        'one info line per transfer',
      );
    },
  );
}

/** Collects every packet a raw UDP socket receives. */
function rawClient(): {
  sock: Socket;
  got: { pkt: TftpPacket; port: number }[];
  next: (ms: number) => Promise<{ pkt: TftpPacket; port: number }>;
} {
  const sock = createSocket('udp4');
  const got: { pkt: TftpPacket; port: number }[] = [];
  let read = 0;
  sock.on('message', (msg, rinfo) => got.push({ pkt: decodePacket(msg), port: rinfo.port }));
  return {
    sock,
    got,
    async next(ms) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (got.length > read) return got[read++]!;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`no packet within ${ms} ms`);
    },
  };
}

test('a MAC off the allowlist gets one ERROR 2 and nothing else', async (t) => {
  const { f } = await withServer(t, [macAllowlist({ allow: ['52:54:00:aa:aa:aa'] })]);
  f.server.sessions.upsert(MAC, { ip: '127.0.0.1' });
  const c = rawClient();
  t.after(() => c.sock.close());
  c.sock.send(fixture('edk2-01-rrq-tsize-probe'), f.port, '127.0.0.1');
  const first = await c.next(5000);
  assert.equal(first.pkt.op, 'error');
  assert.ok(first.pkt.op === 'error');
  assert.equal(first.pkt.code, 2);
  assert.match(first.pkt.message, /^access violation: /);
  // Nothing more may follow (no OACK, no DATA): wait out more than one default retransmit timeout.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(c.got.length, 1, `extra packets: ${JSON.stringify(c.got.slice(1).map((g) => g.pkt.op))}`);
  const denied = await f.waitEvent('tftp.denied');
  assert.equal(denied.outcome, 'denied');
  assert.equal(denied.mac, MAC);
  assert.equal(denied.plugin, 'mac-allowlist');
  assert.ok(!f.events.some((e) => ['tftp.oack', 'tftp.done', 'tftp.probe'].includes(e.type)));
  assert.equal(f.logs.filter((l) => l.event === 'tftp.denied').length, 1);
});

test('EDK2 sequence (captured packets): the tsize probe ending in ERROR 8 is a probe, then the real read completes', async (t) => {
  // ipxe.efi of the captured size: 850528 bytes = 579 full 1468-byte blocks + 580th short one (edk2-09/10).
  const { f } = await withServer(t);
  const { writeFileSync } = await import('node:fs');
  const body = randomBytes(850_528);
  writeFileSync(join(f.root, 'ipxe.efi'), body);
  f.server.sessions.upsert(MAC, { ip: '127.0.0.1' });

  const probe = rawClient();
  t.after(() => probe.sock.close());
  probe.sock.send(fixture('edk2-01-rrq-tsize-probe'), f.port, '127.0.0.1');
  const oack = await probe.next(5000);
  assert.equal(oack.pkt.op, 'oack');
  assert.ok(oack.pkt.op === 'oack');
  // Only what was asked, in the client's order; windowsize 4 is granted (the dnsmasq capture ignored it).
  assert.deepEqual(
    [...oack.pkt.options.values],
    [
      ['tsize', '850528'],
      ['blksize', '1468'],
      ['windowsize', '4'],
    ],
  );
  probe.sock.send(fixture('edk2-03-error8-abort'), oack.port, '127.0.0.1');
  const ev = await f.waitEvent('tftp.probe');
  assert.equal(ev.outcome, 'probe');
  assert.equal(ev.data.tsize, 850_528);
  assert.equal(ev.mac, MAC);

  const read = rawClient();
  t.after(() => read.sock.close());
  read.sock.send(fixture('edk2-04-rrq'), f.port, '127.0.0.1');
  const oack2 = await read.next(5000);
  assert.ok(oack2.pkt.op === 'oack');
  assert.deepEqual(
    [...oack2.pkt.options.values],
    [
      ['blksize', '1468'],
      ['windowsize', '4'],
    ],
  );
  read.sock.send(fixture('edk2-06-ack0'), oack2.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let last: Buffer | undefined;
  for (let expected = 1; expected <= 580; expected++) {
    const p = await read.next(5000);
    assert.ok(p.pkt.op === 'data', `block ${expected}: ${p.pkt.op}`);
    assert.equal(p.pkt.block, expected);
    chunks.push(Buffer.from(p.pkt.data));
    if (expected % 4 === 0 || expected === 580) {
      last = encodeAck(expected);
      read.sock.send(last, oack2.port, '127.0.0.1');
    }
  }
  assert.deepEqual(last, fixture('edk2-10-ack-last'), 'the last ACK is the captured one (block 0x0244)');
  assert.ok(Buffer.concat(chunks).equals(body));
  const done = await f.waitEvent('tftp.done', (e) => e.data.path === '/ipxe.efi');
  assert.equal(done.data.bytes, 850_528);
  assert.equal(done.data.blocks, 580);

  // A probe is not a failure: no tftp.error event, no warn/error log line, one debug line named tftp.probe.
  assert.ok(
    !f.events.some((e) => e.type === 'tftp.error'),
    JSON.stringify(f.events.filter((e) => e.type === 'tftp.error')),
  );
  assert.ok(!f.logs.some((l) => (l.level as number) >= 40), 'no warning or error logged');
  const probeLines = f.logs.filter((l) => l.event === 'tftp.probe');
  assert.equal(probeLines.length, 1);
  assert.equal(probeLines[0]!.level, 20);
});

test('write requests are refused with ERROR 2 (read-only)', async (t) => {
  const { f } = await withServer(t);
  const c = rawClient();
  t.after(() => c.sock.close());
  const { encodeRequest } = await import('../../../core/tftp/codec.js');
  c.sock.send(encodeRequest('wrq', 'upload.bin', 'octet'), f.port, '127.0.0.1');
  const p = await c.next(5000);
  assert.ok(p.pkt.op === 'error');
  assert.equal(p.pkt.code, 2);
  assert.equal((await f.waitEvent('tftp.denied')).data.reason, 'read-only server');
});
