/**
 * Real loss: `pxekit start` (the CLI, config file, source-disk) in one network namespace, curl and atftp in
 * another, `tc netem loss 10% reorder 25% 50% delay 2ms` on both ends of the link. Every fetch must
 * be byte-identical, and the server must have retransmitted (the loss was real).
 * Needs root, /dev/net/tun, tc, curl and atftp; skips with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { realnetAvailable, withLan, type Lan } from '../../helpers/realnet.js';
import { sha256File } from '../../helpers/tftp-files.js';

const REPO = join(import.meta.dirname, '../../..');
const skip = realnetAvailable(['tc', 'curl', 'atftp']);
const NETEM = ['netem', 'loss', '10%', 'reorder', '25%', '50%', 'delay', '2ms'];

/** Adds the netem qdisc; false when this kernel has no sch_netem (the test then skips). */
async function netem(lan: Lan, ns: string): Promise<boolean> {
  const r = await lan.execIn(ns, 'tc', ['qdisc', 'add', 'dev', 'eth0', 'root', ...NETEM], { timeoutMs: 10_000 });
  if (r.code !== 0 && /qdisc kind is unknown|No such file/i.test(r.stderr)) return false;
  assert.equal(r.code, 0, `tc in ${ns}: ${r.stderr}`);
  return true;
}

test(
  '10% loss + reordering on both sides: curl and atftp (windowsize 8) fetch identical bytes from pxekit start',
  { skip, timeout: 300_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pxk-tftp-netem-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const root = join(dir, 'root');
    const out = join(dir, 'out');
    for (const d of [root, out]) rmSync(d, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(root);
    mkdirSync(out);
    // curl always asks `timeout 5` (RFC 2349: the server then waits 5 s per loss): keep its file small.
    const files = { 'small.bin': randomBytes(48 * 1024 + 11), 'win.bin': randomBytes(2 * 1024 * 1024 + 5) };
    for (const [n, b] of Object.entries(files)) writeFileSync(join(root, n), b);
    const config = join(dir, 'pxekit.yaml');
    // A short retransmit timeout keeps the lock-step fetch quick under loss (each lost packet costs one timeout);
    // the backoff (doubling to 8 s) outlasts atftp's 5 s timeout (see loss-clients.test.ts and transfer.ts).
    writeFileSync(
      config,
      [
        'dhcp: { mode: "off" }',
        'http: { enabled: false }',
        'tftp: { port: 69, timeoutMs: 200, retries: 12 }',
        'log: { level: info }',
        'plugins:',
        `  - [source-disk, { root: ${JSON.stringify(root)} }]`,
        '',
      ].join('\n'),
    );

    await withLan(t, { name: 'tftpnem', srvIp: '10.79.0.1/24', cliIp: '10.79.0.2/24', taps: 0 }, async (lan) => {
      if (!(await netem(lan, lan.srvNs)) || !(await netem(lan, lan.cliNs))) {
        t.skip(
          'this kernel has no sch_netem (tc netem unavailable); see loss-clients.test.ts for the userspace-proxy variant',
        );
        return;
      }
      const pxekit = lan.spawnIn(
        lan.srvNs,
        process.execPath,
        [join(REPO, 'bin/pxekit.js'), 'start', '--config', config],
        { cwd: REPO },
      );
      await lan.waitForUdpListen(lan.srvNs, 69, 60_000).catch((err: unknown) => {
        throw new Error(`pxekit did not listen: ${String(err)}\n${pxekit.output()}`);
      });

      const curlOut = join(out, 'curl.bin');
      const c = await lan.execIn(
        lan.cliNs,
        'curl',
        ['-s', '-S', '--max-time', '200', '--tftp-blksize', '1468', '-o', curlOut, `tftp://${lan.srvAddr}/small.bin`],
        { timeoutMs: 210_000 },
      );
      assert.equal(c.code, 0, `curl: ${c.stderr}\n${pxekit.output().slice(-4000)}`);
      assert.equal(await sha256File(curlOut), await sha256File(join(root, 'small.bin')), 'curl bytes differ');

      const atftpOut = join(out, 'atftp.bin');
      const a = await lan.execIn(
        lan.cliNs,
        'atftp',
        ['--option', 'blksize 1468', '--option', 'windowsize 8', '-g', '-r', 'win.bin', '-l', atftpOut, lan.srvAddr],
        { timeoutMs: 200_000 },
      );
      assert.equal(a.code, 0, `atftp: ${a.stderr}\n${pxekit.output().slice(-4000)}`);
      assert.equal(await sha256File(atftpOut), await sha256File(join(root, 'win.bin')), 'atftp bytes differ');

      await pxekit.stop(5000);
      // One line per transfer: tftp.done, or tftp.error when the client's last ACK was lost after it had left
      // (no RFC 1350 dally): the bytes above are what count; retransmissions prove the loss was real.
      const ends = pxekit
        .output()
        .split('\n')
        .flatMap((l) => {
          try {
            const j = JSON.parse(l) as Record<string, unknown>;
            return j.event === 'tftp.done' || j.event === 'tftp.error' ? [j] : [];
          } catch {
            return [];
          }
        });
      for (const p of ['/small.bin', '/win.bin'])
        assert.ok(
          ends.some((d) => d.path === p),
          `no end line for ${p}: ${JSON.stringify(ends)}`,
        );
      const retransmits = ends.reduce((n, d) => n + Number(d.retransmits ?? 0), 0);
      const shown = ends.map(({ event, path, durationMs, retransmits, windowsize }) => ({
        event,
        path,
        durationMs,
        retransmits,
        windowsize,
      }));
      t.diagnostic(`ends: ${JSON.stringify(shown)}`);
      assert.ok(retransmits > 0, 'netem loss should have caused retransmissions');
    });
  },
);
