/**
 * `pxekit explain` golden outputs against fixture/pxekit.config.yaml (mac-allowlist, ipxe-chain,
 * boot-by-arch, templates, source-disk): BIOS, UEFI x64, arm64, UEFI HTTP boot, iPXE and a denied MAC.
 * Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { explainCommand } from '../../../core/explain/cli.js';
import { syntheticDiscoverBuffer } from '../../../core/explain/discover.js';
import { readDhcpFromCapture } from '../../../core/explain/pcap.js';
import type { ExplainReport } from '../../../core/explain/engine.js';
import { fixturePath } from '../../helpers/fixtures.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const config = join(here, 'fixture', 'pxekit.config.yaml');
const golden = (name: string) => join(here, 'golden', `${name}.txt`);

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await explainCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  // The config path as shown depends on the cwd; the rest is stable (no times, fixed xid, GUID from the MAC).
  const norm = (s: string) =>
    s
      .split(config)
      .join('<config>')
      .split(relative(process.cwd(), config))
      .join('<config>')
      .replace(/config \S*pxekit\.config\.yaml/, 'config <config>');
  return { code, out: norm(out.join('\n')), err: err.join('\n') };
}

const CASES: Array<[string, string[]]> = [
  ['bios', ['--mac', '52:54:00:b1:05:01', '--arch', '0']],
  ['uefi-x64', ['--mac', '52:54:00:ef:64:01', '--arch', '7']],
  ['arm64', ['--mac', '52:54:00:aa:64:01', '--arch', '11']],
  ['http-boot', ['--mac', '52:54:00:48:10:01', '--arch', '16']],
  ['ipxe', ['--mac', '52:54:00:b1:05:02', '--arch', '0', '--ipxe']],
  ['denied', ['--mac', 'aa:bb:cc:dd:ee:01', '--arch', '7']],
];

for (const [name, args] of CASES) {
  test(`explain golden: ${name}`, async () => {
    const r = await run(['--config', config, ...args]);
    // A denied client gets nothing: explain says so and exits 1.
    assert.equal(r.code, name === 'denied' ? 1 : 0, r.err);
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden(name))) writeFileSync(golden(name), `${r.out}\n`);
    assert.equal(`${r.out}\n`, readFileSync(golden(name), 'utf8'));
  });
}

test('explain --json: the decisions as data', async () => {
  const r = await run(['--config', config, '--mac', '52:54:00:b1:05:02', '--arch', 'bios', '--ipxe', '--json']);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.client.isIpxe, true);
  assert.equal(rep.admit.allowed, true);
  assert.equal(rep.boot?.plugin, 'ipxe-chain');
  assert.equal(rep.bootFile, 'http://10.99.0.1:8080/boot.ipxe?mac=52:54:00:b1:05:02');
  assert.deepEqual(
    rep.fetches.map((f) => [f.result, f.producedBy ?? f.source]),
    [
      ['script', 'templates'],
      ['file', 'source-disk'],
      ['file', 'source-disk'],
    ],
  );
  assert.deepEqual(rep.config.skipped, ['audit-log']);
  assert.equal(existsSync(join(here, 'fixture', 'never-written.jsonl')), false, 'observers are not run');
});

test('explain --mode full: an address from the pool, and fetches from it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-explain-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'full.yaml');
  await writeFile(
    cfg,
    `log: { level: silent }
dhcp: { mode: proxy, serverAddress: 10.77.0.1, pools: [{ subnet: 10.77.0.0/24, range: [10.77.0.100, 10.77.0.199] }] }
plugins:
  - [boot-by-arch, { uefi64: ipxe.efi }]
  - [source-disk, { root: ${JSON.stringify(join(here, 'fixture', 'tftpboot'))} }]
`,
  );
  const r = await run(['--config', cfg, '--mode', 'full', '--mac', '52:54:00:77:ef:64', '--arch', '7', '--json']);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.config.mode, 'full');
  assert.equal(rep.dhcp.length, 1);
  assert.equal(rep.dhcp[0]!.reply?.type, 'OFFER');
  assert.match(rep.dhcp[0]!.reply!.fields.yiaddr, /^10\.77\.0\.1\d\d$/);
  assert.deepEqual(
    rep.fetches.map((f) => [f.protocol, f.result, f.source, f.size]),
    [['tftp', 'file', 'source-disk', 4096]],
  );
});

/** Ethernet + IPv4 + UDP around a DHCP payload. */
function frame(payload: Buffer, dstPort: number): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(68, 0);
  udp.writeUInt16BE(dstPort, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([0, 0, 0, 0]).copy(ip, 12);
  Buffer.from([255, 255, 255, 255]).copy(ip, 16);
  const eth = Buffer.concat([Buffer.alloc(6, 0xff), Buffer.from([0x52, 0x54, 0, 0, 0, 1]), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([eth, ip, udp, payload]);
}

function classicPcap(frames: Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  return Buffer.concat([
    head,
    ...frames.flatMap((f) => {
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(f.length, 8);
      rec.writeUInt32LE(f.length, 12);
      return [rec, f];
    }),
  ]);
}

function pcapng(frames: Buffer[]): Buffer {
  const block = (type: number, body: Buffer) => {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    const b = Buffer.alloc(8);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(len, 0);
    return Buffer.concat([b, body, pad, tail]);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(1, 0);
  idb.writeUInt32LE(65535, 4);
  const epbs = frames.map((f) => {
    const h = Buffer.alloc(20);
    h.writeUInt32LE(f.length, 12);
    h.writeUInt32LE(f.length, 16);
    return block(6, Buffer.concat([h, f]));
  });
  const shbBlock = block(0x0a0d0d0a, shb);
  return Buffer.concat([shbBlock, block(1, idb), ...epbs]);
}

test('explain --pcap (classic and pcapng) and --packet read the same DISCOVER', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-explain-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const noise = Buffer.concat([frame(Buffer.from('not dhcp'), 53)]);
  const d1 = syntheticDiscoverBuffer({ mac: '52:54:00:ef:64:01', arch: 7 });
  const d2 = syntheticDiscoverBuffer({ mac: '52:54:00:aa:64:01', arch: 11 });
  const frames = [noise, frame(d1, 67), frame(d2, 67)];
  await writeFile(join(dir, 'c.pcap'), classicPcap(frames));
  await writeFile(join(dir, 'c.pcapng'), pcapng(frames));
  await writeFile(join(dir, 'd.hex'), `${d2.toString('hex')}\n`);
  assert.deepEqual(
    readDhcpFromCapture(classicPcap(frames)).map((p) => [
      p.frame,
      p.dstPort,
      p.payload.equals(d1) || p.payload.equals(d2),
    ]),
    [
      [2, 67, true],
      [3, 67, true],
    ],
  );
  assert.deepEqual(
    readDhcpFromCapture(pcapng(frames)).map((p) => p.frame),
    [2, 3],
  );

  const want = (await run(['--config', config, '--mac', '52:54:00:aa:64:01', '--arch', '11', '--json'])).out;
  const strip = (s: string) => {
    const j = JSON.parse(s) as ExplainReport;
    return { ...j, input: { ...j.input, origin: '' } };
  };
  for (const args of [
    ['--pcap', join(dir, 'c.pcap'), '--index', '1'],
    ['--pcap', join(dir, 'c.pcapng'), '--index', '1'],
    ['--packet', join(dir, 'd.hex')],
    ['--packet', d2.toString('hex')],
  ]) {
    const r = await run(['--config', config, ...args, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(strip(r.out), strip(want), args.join(' '));
  }
  const none = await run(['--config', config, '--pcap', join(dir, 'c.pcap'), '--index', '5']);
  assert.equal(none.code, 2);
  assert.match(none.err, /2 DHCP packets to port 67\/4011; no index 5/);
  await writeFile(join(dir, 'bad.pcap'), Buffer.from('garbage!garbage!garbage!garbage!'));
  const bad = await run(['--config', config, '--pcap', join(dir, 'bad.pcap')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /not a pcap or pcapng file/);
});

test('explain a real EDK2 boot-server REQUEST (port 4011) from the captures', async () => {
  const r = await run([
    '--config',
    config,
    '--packet',
    fixturePath('dhcp/uefi-edk2-request-4011.hex'),
    '--port',
    '4011',
    '--json',
  ]);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out) as ExplainReport;
  assert.equal(rep.input.port, 4011);
  assert.equal(rep.dhcp[0]?.reply?.type, 'ACK');
  assert.equal(rep.dhcp[0]?.reply?.to, '10.99.0.210:4011', 'answered at the address EDK2 sent from (its ciaddr)');
  assert.equal(rep.boot?.plugin, 'boot-by-arch');
  assert.deepEqual(
    rep.fetches.map((f) => [f.protocol, f.result, f.source]),
    [['tftp', 'file', 'source-disk']],
  );
  const dropped = await run(['--config', config, '--packet', fixturePath('dhcp/uefi-edk2-request-4011.hex')]);
  assert.match(dropped.out, /3\. Boot decision: not asked/);
  assert.match(dropped.out, /REQUEST for another server/);
});

test('explain usage errors exit 2 with a reason', async () => {
  for (const [args, re] of [
    [['--mac', '52:54:00:00:00:01'], /--mac needs --arch/],
    [['--mac', 'zz', '--arch', '7'], /not a MAC address/],
    [['--mac', '52:54:00:00:00:01', '--arch', 'sparc'], /--arch sparc/],
    [['--packet', 'xyz'], /not hex/],
    [['--packet', '00', '--port', '68'], /--port must be 67/],
    [[], /exactly one of/],
    [['--mode', 'relay', '--mac', '52:54:00:00:00:01', '--arch', '7'], /--mode must be proxy or full/],
  ] as Array<[string[], RegExp]>) {
    const r = await run(['--config', config, ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re);
  }
  const missing = await run(['--config', '/nonexistent/pxekit.yaml', '--mac', '52:54:00:00:00:01', '--arch', '7']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /PXE_ERR_CONFIG_NOT_FOUND/);
});
