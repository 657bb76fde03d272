/**
 * Self-tests of the realnet harness (test/helpers/realnet.ts) against reference software, so
 * that a failing pxekit e2e test points at pxekit, not at the harness:
 *  - dnsmasq as DHCP server, busybox udhcpc and ISC dhclient as clients; an added host is reachable;
 *  - a QEMU BIOS guest (iPXE ROM) booting DHCP -> TFTP iPXE script -> HTTP iPXE script -> marker.
 * Needs root, /dev/net/tun and the realnet packages; skips with the reason otherwise.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { realnetAvailable, which, withLan, type Lan } from '../../helpers/realnet.js';
import { dnsmasqDhcpArgs } from '../../helpers/dnsmasq.js';
import { waitFor } from '../../helpers/proc.js';

const MARKER = 'PXEKIT-BOOT-OK';

function tmp(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pxk-harness-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** dnsmasq as a plain DHCP server (no DNS, no ping check) on the server namespace, plus `extra` flags. */
function startDnsmasq(lan: Lan, dir: string, extra: string[] = []) {
  return lan.spawnIn(lan.srvNs, 'dnsmasq', [...dnsmasqDhcpArgs({ dir }), '--log-dhcp', ...extra]);
}

const dhcpSkip = realnetAvailable(['dnsmasq', 'busybox', 'dhclient']);

test(
  'dnsmasq in the server namespace leases to udhcpc and dhclient',
  { skip: dhcpSkip, timeout: 120_000 },
  async (t) => {
    await withLan(t, { name: 'hdhcp', taps: 0 }, async (lan) => {
      const dir = tmp(t);
      const server = startDnsmasq(lan, dir);
      await lan.waitForUdpListen(lan.srvNs, 67, 10_000);

      // Our own scripts: the default ones would rewrite the host's resolv.conf.
      const uOut = path.join(dir, 'udhcpc.out');
      const uScript = path.join(dir, 'udhcpc.sh');
      writeFileSync(uScript, `#!/bin/sh\necho "$1 ip=$ip" >> ${uOut}\n`);
      chmodSync(uScript, 0o755);
      const u = await lan.execIn(
        lan.cliNs,
        'busybox',
        ['udhcpc', '-f', '-q', '-n', '-i', 'eth0', '-t', '5', '-T', '2', '-s', uScript],
        { timeoutMs: 30_000 },
      );
      assert.equal(u.code, 0, `udhcpc failed: ${u.stderr}\n--- dnsmasq ---\n${server.output()}`);
      assert.match(readFileSync(uOut, 'utf8'), /^bound ip=10\.77\.0\.1\d\d$/m);

      // dhclient clears its environment before running the script: paths are written into it.
      const dOut = path.join(dir, 'dhclient.out');
      const dScript = path.join(dir, 'dhclient.sh');
      writeFileSync(dScript, `#!/bin/sh\necho "$reason $new_ip_address" >> ${dOut}\n`);
      chmodSync(dScript, 0o755);
      const d = lan.spawnIn(lan.cliNs, 'dhclient', [
        '-4',
        '-d',
        '-1',
        '-sf',
        dScript,
        '-lf',
        path.join(dir, 'dhclient.leases'),
        '-pf',
        path.join(dir, 'dhclient.pid'),
        'eth0',
      ]);
      const bound = await waitFor(
        () => existsSync(dOut) && /^(BOUND|REBOOT) 10\.77\.0\.1\d\d$/m.exec(readFileSync(dOut, 'utf8')),
        45_000,
        'dhclient BOUND',
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n--- dhclient ---\n${d.output()}\n--- dnsmasq ---\n${server.output()}`);
      });
      assert.ok(bound);
      await d.stop();
      assert.match(server.output(), /DHCPACK\(eth0\) 10\.77\.0\.1\d\d/);

      // An extra host (e.g. a site DHCP server in proxy tests) joins the same LAN.
      const peer = await lan.addHost('peer', '10.77.0.3/24');
      assert.equal(peer, 'hdhcp-peer');
      const ping = await lan.execIn(lan.srvNs, 'busybox', ['ping', '-c', '1', '-W', '3', '10.77.0.3'], {
        timeoutMs: 10_000,
      });
      assert.equal(ping.code, 0, `ping 10.77.0.3 from ${lan.srvNs}: ${ping.stdout}${ping.stderr}`);
    });
  },
);

const pythonBin = which('python3');
const qemuSkip =
  realnetAvailable(['dnsmasq', 'qemu-system-x86_64', 'radvd', 'python3']) ??
  (existsSync('/usr/lib/ipxe/qemu/efi-e1000.rom') ? undefined : 'ipxe-qemu ROMs missing');

test(
  'QEMU BIOS guest boots DHCP -> TFTP -> HTTP from dnsmasq + http.server',
  { skip: qemuSkip, timeout: 200_000 },
  async (t) => {
    await withLan(t, { name: 'hqemu', taps: 1, ra: true }, async (lan) => {
      const dir = tmp(t);
      const tftpRoot = path.join(dir, 'tftp');
      const httpRoot = path.join(dir, 'http');
      for (const d of [tftpRoot, httpRoot]) mkdirSync(d);
      // The BIOS NIC ROM is iPXE already (user class "iPXE"): its boot file is a TFTP iPXE script
      // that chains to HTTP, so one boot exercises DHCP, TFTP and HTTP.
      writeFileSync(path.join(tftpRoot, 'boot-tftp.ipxe'), `#!ipxe\nchain http://${lan.srvAddr}/boot.ipxe\n`);
      writeFileSync(path.join(httpRoot, 'boot.ipxe'), `#!ipxe\necho ${MARKER} \${platform}\n`);

      const dns = startDnsmasq(lan, dir, [
        '--enable-tftp',
        `--tftp-root=${tftpRoot}`,
        '--dhcp-userclass=set:ipxe,iPXE',
        '--dhcp-boot=tag:ipxe,boot-tftp.ipxe',
      ]);
      const http = lan.spawnIn(lan.srvNs, pythonBin ?? 'python3', [
        '-m',
        'http.server',
        '--bind',
        lan.srvAddr,
        '--directory',
        httpRoot,
        '80',
      ]);
      await lan.waitForUdpListen(lan.srvNs, 69, 10_000);
      await lan.waitForTcpListen(lan.srvNs, 80, 15_000);
      assert.ok(!dns.exited() && !http.exited(), `a server died:\n${dns.output()}\n${http.output()}`);

      const boot = await lan.bootQemu({ firmware: 'bios', mac: '52:54:00:77:00:01', marker: MARKER, timeoutSec: 120 });
      const why = `${boot.log}\n--- serial tail ---\n${boot.serial.slice(-3000)}\n--- dnsmasq ---\n${dns.output().slice(-3000)}`;
      assert.equal(boot.result, 'marker', why);
      assert.ok(boot.ok);
      assert.match(boot.serial, new RegExp(`^${MARKER} pcbios`, 'm'), why);
      assert.match(dns.output(), /DHCPACK\(eth0\) 10\.77\.0\.1\d\d 52:54:00:77:00:01/, why);
      assert.match(dns.output(), /sent .*boot-tftp\.ipxe to 10\.77\.0\.1\d\d/, why);
      assert.match(http.output(), /"GET \/boot\.ipxe HTTP\/1\.[01]" 200/, why);
      t.diagnostic(`BIOS boot to marker: ${boot.elapsedMs} ms (qemu-pxe.sh elapsed)`);
    });
  },
);
