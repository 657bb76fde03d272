/**
 * TFTP and HTTP on IPv6 (`tftp.address6`, `http.address6`) over ::1 with real clients: curl (HTTP and
 * TFTP), tftp-hpa `-6`, atftp. One server listens on 127.0.0.1 and ::1 with the same port; the same
 * traversal rules, admission (mac-allowlist by the session's IPv6 address) and transfer limits (one
 * budget for both families) hold. Each client is skipped with the reason when its binary is missing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { createServer } from '../../../core/create-server.js';
import type { BootEvent } from '../../../core/hooks/server.js';
import { definePlugin, type PluginDefinition } from '../../../core/plugin.js';
import type { PxeServer } from '../../../core/server.js';
import macAllowlist from '../../../plugins/mac-allowlist/index.js';
import sourceDisk from '../../../plugins/source-disk/index.js';
import { run, which } from '../../helpers/tftp-files.js';

const curl = which('curl');
const tftpHpa = which('tftp');
const atftp = which('atftp');
const ALLOWED = '52:54:00:66:00:01';
const OTHER = '52:54:00:66:00:02';
const PAYLOAD = randomBytes(300_000);

interface Fixture {
  server: PxeServer;
  tftpPort: number;
  httpPort: number;
  out: string;
  events: BootEvent[];
}

async function start(t: TestContext, plugins: PluginDefinition[] = [], tftp: object = {}): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), 'pxk-v6lo-root-'));
  const out = mkdtempSync(join(tmpdir(), 'pxk-v6lo-out-'));
  writeFileSync(join(root, 'boot.efi'), PAYLOAD);
  const events: BootEvent[] = [];
  const recorder = definePlugin({
    name: 'test-recorder',
    apply(server) {
      server.hooks.bootEvent.tap('test-recorder', (ev) => void events.push(ev));
    },
  });
  const server = createServer({
    logger: pino({ level: 'silent' }),
    dhcp: { mode: 'off' },
    shutdownTimeoutMs: 300,
    tftp: { port: 0, address: '127.0.0.1', address6: '::1', ...tftp },
    http: { port: 0, address: '127.0.0.1', address6: '::1' },
    plugins: [recorder, sourceDisk({ root }), ...plugins],
  });
  t.after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });
  const listening = await server.start();
  const ports = (protocol: string) => listening.filter((l) => l.protocol === protocol);
  const [tftp4, tftp6] = ports('tftp');
  const [http4, http6] = ports('http');
  assert.deepEqual(
    [tftp4?.address, tftp6?.address, http4?.address, http6?.address],
    ['127.0.0.1', '::1', '127.0.0.1', '::1'],
  );
  assert.equal(tftp6!.port, tftp4!.port, 'both TFTP sockets share the port');
  assert.equal(http6!.port, http4!.port, 'both HTTP sockets share the port');
  return { server, tftpPort: tftp4!.port, httpPort: http4!.port, out, events };
}

const same = (file: string) => assert.ok(readFileSync(file).equals(PAYLOAD), `${file} differs from the source`);

test('TFTP over [::1] with curl, tftp-hpa -6 and atftp; HTTP over [::1] with curl -g', async (t) => {
  const f = await start(t);
  f.server.sessions.upsert(ALLOWED, { ip: '::1' });
  if (curl) {
    const h = await run(curl, ['-sS', '-g', '-o', join(f.out, 'h'), `http://[::1]:${f.httpPort}/boot.efi`], 30_000);
    assert.equal(h.code, 0, h.stderr);
    same(join(f.out, 'h'));
    const tf = await run(
      curl,
      ['-sS', '--tftp-blksize', '1468', '-o', join(f.out, 'c'), `tftp://[::1]:${f.tftpPort}/boot.efi`],
      30_000,
    );
    assert.equal(tf.code, 0, tf.stderr);
    same(join(f.out, 'c'));
  } else t.diagnostic('curl not installed: skipped');
  if (tftpHpa) {
    const r = await run(
      tftpHpa,
      ['-6', '::1', String(f.tftpPort), '-m', 'binary', '-c', 'get', 'boot.efi', join(f.out, 'hpa')],
      30_000,
    );
    assert.equal(r.code, 0, r.stderr);
    same(join(f.out, 'hpa'));
  } else t.diagnostic('tftp-hpa not installed: skipped');
  if (atftp) {
    const r = await run(
      atftp,
      ['--option', 'blksize 1468', '-g', '-r', 'boot.efi', '-l', join(f.out, 'a'), '::1', String(f.tftpPort)],
      30_000,
    );
    assert.equal(r.code, 0, `atftp: ${r.stderr}`);
    same(join(f.out, 'a'));
  } else t.diagnostic('atftp not installed: skipped');
  // Every download was tied to the session by its IPv6 source address.
  const done = f.events.filter((e) => e.type === 'tftp.done' || e.type === 'http.done');
  assert.ok(done.length >= 1);
  for (const e of done) assert.equal(e.mac, ALLOWED, `${e.type} from ::1 names the session's MAC`);
});

test('traversal is refused over IPv6 exactly as over IPv4', { skip: !curl && 'curl not installed' }, async (t) => {
  const f = await start(t);
  for (const host of ['127.0.0.1', '[::1]']) {
    const h = await run(
      curl!,
      [
        '-sS',
        '-g',
        '--path-as-is',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${host}:${f.httpPort}/../../etc/passwd`,
      ],
      30_000,
    );
    assert.match(h.stdout, /^4\d\d$/, `HTTP ${host}: ${h.stdout}`);
    const tf = await run(
      curl!,
      ['-sS', '-o', join(f.out, 'x'), `tftp://${host}:${f.tftpPort}/../../etc/passwd`],
      30_000,
    );
    assert.notEqual(tf.code, 0, `TFTP ${host} must refuse ../`);
  }
  const denied = f.events.filter((e) => e.type === 'tftp.denied' || e.type === 'tftp.error');
  assert.equal(denied.length, 2, 'one refusal per family');
});

test(
  'admission over IPv6: the session found by the IPv6 address decides (mac-allowlist)',
  { skip: !curl && 'curl not installed' },
  async (t) => {
    const f = await start(t, [macAllowlist({ allow: [ALLOWED] })]);
    const fetchBoth = async () => {
      const h = await run(
        curl!,
        ['-s', '-g', '-o', '/dev/null', '-w', '%{http_code}', `http://[::1]:${f.httpPort}/boot.efi`],
        30_000,
      );
      const tf = await run(curl!, ['-sS', '-o', join(f.out, 'y'), `tftp://[::1]:${f.tftpPort}/boot.efi`], 30_000);
      return { http: h.stdout, tftp: tf.code };
    };
    assert.deepEqual(await fetchBoth(), { http: '403', tftp: 69 }, 'no session for ::1: unknown IP denied');
    f.server.sessions.upsert(ALLOWED, { ip: '::1' });
    assert.deepEqual(await fetchBoth(), { http: '200', tftp: 0 }, 'allowed MAC at ::1');
    f.server.sessions.upsert(OTHER, { ip: '::1' });
    assert.deepEqual(await fetchBoth(), { http: '403', tftp: 69 }, 'a MAC not in the list at ::1');
  },
);

test(
  'one transfer budget for both families: a stalled IPv4 transfer makes an IPv6 request busy',
  { skip: !curl && 'curl not installed' },
  async (t) => {
    const f = await start(t, [], { maxTransfers: 1, timeoutMs: 2000, retries: 2 });
    // An IPv4 client that sends a read request and never acknowledges: its transfer holds the one slot.
    const stall = createSocket('udp4');
    t.after(() => stall.close());
    const rrq = Buffer.concat([Buffer.from([0, 1]), Buffer.from('boot.efi\0octet\0')]);
    await new Promise<void>((resolve) => stall.bind(0, '127.0.0.1', () => resolve()));
    const first = new Promise<Buffer>((resolve) => stall.once('message', (m) => resolve(m)));
    stall.send(rrq, f.tftpPort, '127.0.0.1');
    assert.equal((await first).readUInt16BE(0), 3, 'the IPv4 transfer started (DATA 1)');
    const r = await run(curl!, ['-sS', '-o', join(f.out, 'z'), `tftp://[::1]:${f.tftpPort}/boot.efi`], 30_000);
    assert.notEqual(r.code, 0);
    const busy = f.events.find((e) => e.type === 'tftp.error' && JSON.stringify(e).includes('server busy'));
    assert.ok(busy, `an IPv6 request was refused as busy; events: ${f.events.map((e) => e.type).join(',')}`);
  },
);
