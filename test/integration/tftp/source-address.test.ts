/**
 * Every TFTP answer leaves from the address the request was sent to, on a server bound to 0.0.0.0 and ::
 * whose interface has two addresses of each kind (IPv4, global IPv6, link-local IPv6): UEFI firmware drops
 * answers from any other (docs/ipv6.md). Two namespaces joined by a veth pair; the server runs in one, the
 * clients in the other: a node:dgram probe that records `rinfo.address` of the OACK, DATA and the errors
 * sent from the listening port (test/helpers/tftp-source-probe.ts), and tftp-hpa, which sends its ACKs to
 * the address it asked (atftp, curl and busybox follow the answers' address and do not notice). The native
 * transport must pass; on node:dgram the kernel picks the source, so one address of each pair gets answers
 * from the other (the documented limitation, with the `tftp.source.ambiguous` warning at start). Needs root;
 * skips otherwise.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nativeListen } from '../../../core/native/listen-socket.js';
import { run, spawnTracked, waitFor, type Tracked } from '../../helpers/proc.js';
import { realnetAvailable, which } from '../../helpers/realnet.js';

const SRV = 'tsrc16-s';
const CLI = 'tsrc16-c';
const V4 = ['10.79.0.1', '10.79.0.2'];
const V6 = ['fd79::1', 'fd79::2'];
const LL = ['fe80::1', 'fe80::2'];
const FILE = 'hello.bin';
const skip = realnetAvailable();
const noNative = nativeListen().available ? false : `native addon without listenOpen: ${nativeListen().reason ?? ''}`;
const tftpHpa = which('tftp');

const ip = async (...args: string[]) => {
  const r = await run('ip', args, { timeoutMs: 10_000 });
  assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
};
const inNs = (ns: string, cmd: string, args: string[], timeoutMs = 20_000) =>
  run('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs });

async function teardown(): Promise<void> {
  for (const ns of [SRV, CLI]) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 });
}

/** The two namespaces, linked by a veth pair (eth0 on both sides), with every address in place and usable. */
async function buildNet(): Promise<void> {
  await teardown(); // a leftover of a killed run
  for (const ns of [SRV, CLI]) {
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  await ip('-n', SRV, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CLI);
  for (const ns of [SRV, CLI]) {
    // Only the link-local addresses given below (no EUI-64 one), and no duplicate address detection wait.
    const sysctl = ['net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.eth0.disable_ipv6=0'];
    sysctl.push('net.ipv6.conf.eth0.accept_dad=0', 'net.ipv6.conf.eth0.addr_gen_mode=1');
    const r = await inNs(ns, 'sysctl', ['-qw', ...sysctl]);
    assert.equal(r.code, 0, `sysctl in ${ns}: ${r.stderr}`);
  }
  for (const a of V4) await ip('-n', SRV, 'addr', 'add', `${a}/24`, 'dev', 'eth0');
  for (const a of [...V6, ...LL]) await ip('-n', SRV, '-6', 'addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad');
  await ip('-n', CLI, 'addr', 'add', '10.79.0.10/24', 'dev', 'eth0');
  for (const a of ['fd79::10', 'fe80::10']) await ip('-n', CLI, '-6', 'addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad');
  for (const ns of [SRV, CLI]) await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  // Usable once both ends have carrier and no address is still tentative.
  const ready = async (ns: string) => {
    const link = await run('ip', ['-n', ns, 'link', 'show', 'eth0'], { timeoutMs: 5_000 });
    const tentative = await run('ip', ['-n', ns, '-6', 'addr', 'show', 'tentative'], { timeoutMs: 5_000 });
    return link.stdout.includes('LOWER_UP') && tentative.stdout.trim() === '';
  };
  await waitFor(async () => (await ready(SRV)) && (await ready(CLI)), 10_000, 'the veth link between the namespaces');
}

interface Server {
  proc: Tracked;
  port: number;
}

async function startServer(root: string, options: object): Promise<Server> {
  const script = join(import.meta.dirname, '../../helpers/tftp-server-proc.ts');
  const proc = spawnTracked(
    'ip',
    [
      'netns',
      'exec',
      SRV,
      process.execPath,
      '--conditions=source',
      '--import',
      'tsx',
      script,
      root,
      JSON.stringify(options),
    ],
    { env: { ...process.env, TFTP_PROC_EVENTS: '0', TFTP_PROC_LOG: 'warn' } },
  );
  const m = await waitFor(
    () => /\{"listening":(\d+)\}/.exec(proc.output()) ?? (proc.exited() ? ['', 'exited'] : undefined),
    30_000,
    'the TFTP server to listen',
  );
  assert.notEqual(m[1], 'exited', `server exited:\n${proc.output()}`);
  return { proc, port: Number(m[1]) };
}

interface Answer {
  target: string;
  kind: string;
  from: string | undefined;
  op: number | undefined;
}

async function probe(port: number, targets: string[]): Promise<Answer[]> {
  const script = join(import.meta.dirname, '../../helpers/tftp-source-probe.ts');
  const args = ['--conditions=source', '--import', 'tsx', script, String(port), FILE, ...targets];
  const r = await inNs(CLI, process.execPath, args, 60_000);
  assert.equal(r.code, 0, `probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Answer[];
}

/**
 * tftp-hpa fetches FILE from `target` into `out`, killed after `ms`; its output, plus `SIZE n` of what
 * arrived. It sends every ACK to the address it asked (only the port follows the server's answers).
 */
async function hpaGet(target: string, port: number, out: string, ms = 20_000): Promise<string> {
  rmSync(out, { force: true });
  const input = `binary\ntimeout 8\nget ${FILE} ${out}\nquit\n`;
  const r = await run('ip', ['netns', 'exec', CLI, tftpHpa!, target, String(port)], { timeoutMs: ms, input });
  let size = -1;
  try {
    size = statSync(out).size;
  } catch {
    /* nothing arrived */
  }
  return `${r.stdout}${r.stderr} SIZE ${size}`;
}

const OP = { oack: 6, 'oack-data': 3, data: 3, wrq: 5, bad: 5, absent: 5 } as Record<string, number>;
const TARGETS = [...V4, ...V6, ...LL.map((a) => `${a}%eth0`)];

function setup(t: { after: (fn: () => unknown) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'pxekit-tsrc-'));
  writeFileSync(join(root, FILE), Buffer.alloc(1300, 7));
  t.after(async () => {
    await teardown();
    rmSync(root, { recursive: true, force: true });
  });
  return root;
}

test(
  'native transport on 0.0.0.0 and ::: OACK, DATA and listening-port errors come from the address asked',
  { skip: skip || noNative, timeout: 120_000 },
  async (t) => {
    const root = setup(t);
    await buildNet();
    const server = await startServer(root, { address: '0.0.0.0', address6: '::', transport: 'native' });
    t.after(() => server.proc.stop());
    const answers = await probe(server.port, TARGETS);
    assert.equal(answers.length, TARGETS.length * 6);
    for (const a of answers) {
      assert.equal(a.from, a.target, `${a.kind} to ${a.target} answered from ${a.from ?? 'nowhere'}`);
      assert.equal(a.op, OP[a.kind], `${a.kind} to ${a.target}: opcode ${a.op}`);
    }
    assert.doesNotMatch(server.proc.output(), /tftp\.source\.ambiguous/);
  },
);

test(
  'native transport on a dual-stack :: alone: IPv4 clients (v4-mapped) get answers from the address asked',
  { skip: skip || noNative, timeout: 120_000 },
  async (t) => {
    const root = setup(t);
    await buildNet();
    const server = await startServer(root, { address: '::', transport: 'native' });
    t.after(() => server.proc.stop());
    const answers = await probe(server.port, [...V4, ...V6]);
    for (const a of answers) assert.equal(a.from, a.target, `${a.kind} to ${a.target} answered from ${a.from}`);
  },
);

test(
  'tftp-hpa (ignores answers from another address) fetches from each address of the native server',
  { skip: skip || noNative || (!tftpHpa && 'tftp-hpa not installed'), timeout: 120_000 },
  async (t) => {
    const root = setup(t);
    await buildNet();
    const server = await startServer(root, { address: '0.0.0.0', address6: '::', transport: 'native' });
    t.after(() => server.proc.stop());
    for (const target of [...V4, ...V6, `${LL[1]}%eth0`]) {
      const r = await hpaGet(target, server.port, join(root, 'out-native'));
      assert.match(r, /SIZE 1300$/, `tftp-hpa from ${target}: ${r}`);
    }
  },
);

test(
  'dgram transport on 0.0.0.0 and ::: the kernel picks the source (documented), and the server warns at start',
  { skip, timeout: 120_000 },
  async (t) => {
    const root = setup(t);
    await buildNet();
    const server = await startServer(root, { address: '0.0.0.0', address6: '::', transport: 'dgram' });
    t.after(() => server.proc.stop());
    const answers = await probe(server.port, TARGETS);
    for (const a of answers) assert.equal(a.op, OP[a.kind], `${a.kind} to ${a.target}: still answered`);
    for (const pair of [V4, V6, LL.map((a) => `${a}%eth0`)]) {
      const wrong = answers.filter((a) => pair.includes(a.target) && a.from !== a.target);
      assert.ok(wrong.length > 0, `one of ${pair.join(', ')} gets answers from the other on node:dgram`);
    }
    if (tftpHpa) {
      // tftp-hpa ACKs to the address it asked; the transfer socket, connected from the kernel's other
      // address, never gets those ACKs: the transfer stalls after block 1.
      for (const pair of [V4, V6]) {
        const target = answers.find((x) => pair.includes(x.target) && x.kind === 'data' && x.from !== x.target)!.target;
        const r = await hpaGet(target, server.port, join(root, 'out-dgram'), 6_000);
        assert.doesNotMatch(r, /SIZE 1300$/, `tftp-hpa from ${target} on node:dgram: ${r}`);
      }
    }
    const warned = server.proc.output().match(/"event":"tftp\.source\.ambiguous"/g) ?? [];
    assert.equal(warned.length, 2, `one warning per wildcard listener:\n${server.proc.output()}`);
  },
);
