/**
 * TFTP and HTTP on IPv6 between two namespaces of the lab LAN (IPv6 on): pxekit (the CLI) in the server
 * namespace with a ULA (fd5a:16::1) and a fixed link-local address (fe80::1) on eth0, real clients in the
 * client namespace. `address6: '::'` serves both addresses; `address6: 'fe80::1%eth0'` binds the link-local
 * address with its zone, and transfers leave from it. Needs root and curl, tftp-hpa; skips otherwise.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../helpers/proc.js';
import { realnetAvailable, which, withLan, type Lan } from '../../helpers/realnet.js';
import { startPxekit, tmp } from '../dhcp/helpers.js';

const skip = realnetAvailable(['curl', 'tftp']);
const atftp = which('atftp');
const ULA = 'fd5a:16::1';
const LL = 'fe80::1';
const HTTP_PORT = 8080;
const PAYLOAD = randomBytes(200_000);

function config(root: string, address6: string) {
  return {
    dhcp: { mode: 'off' },
    tftp: { address: '10.77.0.1', address6 },
    http: { port: HTTP_PORT, address: '10.77.0.1', address6 },
    plugins: [['source-disk', { root }]],
    log: { level: 'debug' },
    shutdownTimeoutMs: 500,
  };
}

/** Addresses without duplicate address detection, and no tentative address left on either side. */
async function addressLan(lan: Lan): Promise<void> {
  const ip = (ns: string, ...args: string[]) => lan.execIn(ns, 'ip', args, { timeoutMs: 10_000 });
  for (const [ns, ula] of [
    [lan.srvNs, `${ULA}/64`],
    [lan.cliNs, 'fd5a:16::2/64'],
  ] as const) {
    await ip(ns, '-6', 'addr', 'add', ula, 'dev', 'eth0', 'nodad');
  }
  await ip(lan.srvNs, '-6', 'addr', 'add', `${LL}/64`, 'dev', 'eth0', 'nodad');
  await waitFor(
    async () => {
      const both = await Promise.all([lan.srvNs, lan.cliNs].map((ns) => ip(ns, '-6', 'addr', 'show', 'tentative')));
      return both.every((r) => r.stdout.trim() === '');
    },
    15_000,
    'IPv6 addresses out of duplicate address detection',
  );
}

async function fetchAll(lan: Lan, dir: string, hosts: string[]): Promise<Record<string, string>> {
  const outcome: Record<string, string> = {};
  const inCli = (cmd: string, args: string[]) => lan.execIn(lan.cliNs, cmd, args, { timeoutMs: 20_000 });
  for (const host of hosts) {
    const zoned = host.startsWith('fe80:') ? `${host}%eth0` : host;
    const file = (tag: string) => path.join(dir, `${tag}-${host.replace(/:/g, '_')}`);
    const check = (tag: string, code: number | null, stderr: string) => {
      let ok = code === 0;
      if (ok) ok = readFileSync(file(tag)).equals(PAYLOAD);
      outcome[`${tag} ${host}`] = ok ? 'ok' : `exit ${code} ${stderr.trim().slice(0, 120)}`;
    };
    const urlHost = `[${host.startsWith('fe80:') ? `${host}%25eth0` : host}]`;
    const h = await inCli('curl', ['-sS', '-g', '-o', file('http'), `http://${urlHost}:${HTTP_PORT}/boot.efi`]);
    check('http', h.code, h.stderr);
    const c = await inCli('curl', ['-sS', '-g', '-o', file('curl-tftp'), `tftp://${urlHost}/boot.efi`]);
    check('curl-tftp', c.code, c.stderr);
    const t = await inCli('tftp', ['-6', zoned, '-m', 'binary', '-c', 'get', 'boot.efi', file('tftp-hpa')]);
    // tftp-hpa exits 0 even on errors: the file content decides.
    check('tftp-hpa', t.code === 0 && /Error|timed out/i.test(t.stdout + t.stderr) ? 1 : t.code, t.stdout + t.stderr);
    if (atftp) {
      const a = await inCli('atftp', ['-g', '-r', 'boot.efi', '-l', file('atftp'), zoned, '69']);
      check('atftp', a.code, a.stderr);
    }
  }
  return outcome;
}

const expectAll = (hosts: string[], result: string) =>
  Object.fromEntries(
    hosts.flatMap((h) =>
      ['http', 'curl-tftp', 'tftp-hpa', ...(atftp ? ['atftp'] : [])].map((tag) => [`${tag} ${h}`, result]),
    ),
  );

test(
  'address6 "::" serves a ULA and a link-local address; "fe80::1%eth0" only the link-local one',
  {
    skip,
    timeout: 180_000,
  },
  async (t) => {
    await withLan(t, { name: 'v6lis', ipv6: true, taps: 0 }, async (lan) => {
      await addressLan(lan);
      const dir = tmp('v6lis');
      const root = path.join(dir, 'root');
      mkdirSync(root);
      writeFileSync(path.join(root, 'boot.efi'), PAYLOAD);

      const all = await startPxekit(lan, dir, config(root, '::'), 69);
      await lan.waitForTcpListen(lan.srvNs, HTTP_PORT, 10_000);
      // The log line follows the IPv6 bind and is written asynchronously: HTTP may already listen.
      const listening = await waitFor(
        () => all.lines().find((l) => l.msg === 'tftp: listening'),
        10_000,
        "the 'tftp: listening' log line",
      );
      assert.equal(listening.address6, '::', JSON.stringify(listening));
      assert.deepEqual(await fetchAll(lan, dir, [ULA, LL]), expectAll([ULA, LL], 'ok'));
      await all.stop();

      const linkLocal = await startPxekit(lan, dir, config(root, `${LL}%eth0`), 69);
      await lan.waitForTcpListen(lan.srvNs, HTTP_PORT, 10_000);
      const got = await fetchAll(lan, dir, [LL]);
      assert.deepEqual(got, expectAll([LL], 'ok'));
      // Nothing listens on the ULA now: HTTP is refused at once.
      const refused = await lan.execIn(lan.cliNs, 'curl', ['-sS', '-g', `http://[${ULA}]:${HTTP_PORT}/boot.efi`], {
        timeoutMs: 20_000,
      });
      assert.equal(refused.code, 7, `curl to the ULA: ${refused.stderr}`);
      await linkLocal.stop();
    });
  },
);
