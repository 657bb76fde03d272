/**
 * Real firmware network-boots from pxekit (issue 8): QEMU guests (SeaBIOS + iPXE ROM, OVMF/EDK2)
 * on a namespace LAN, pxekit started from the example configs as a separate process.
 *
 *   full mode  (examples/full-dhcp):  BIOS, UEFI, and a MAC outside the allowlist (gets nothing)
 *   proxy mode (examples/quickstart): BIOS, UEFI, beside a site dnsmasq that hands out addresses only
 *   UEFI HTTP boot (examples/uefi-http-boot): OVMF HTTPv4 (arch 16), no TFTP
 *
 * Evidence per boot: the marker on the serial console (printed by the per-host script after it has
 * fetched a file over TFTP), pxekit's DHCP offer/ack log lines for the guest's MAC, and the HTTP GET
 * of its script. One guest at a time (TCG keeps a core busy); every case is time-bounded and the
 * LAN (namespaces, pxekit, dnsmasq, QEMU) is torn down whatever happens.
 *
 * The BIOS guests cannot exercise "ROM → TFTP undionly.kpxe": QEMU's BIOS ROM is iPXE already and
 * ipxe-chain rightly hands it the script URL (test/lab/README.md, Known limits). TFTP is
 * covered by the script's `imgfetch tftp://...` (BIOS) and by EDK2 fetching the iPXE binary (UEFI).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { realnetAvailable, which, withLan, type BootResult, type Firmware, type Lan } from '../helpers/realnet.js';
import { tail, waitFor } from '../helpers/proc.js';
import { startPxekit, type LogLine, type PxekitProc } from './pxekit-proc.js';

const MARKER = 'PXEKIT-BOOT-OK';
const IPXE = '/usr/lib/ipxe';
const skip =
  realnetAvailable(['qemu-system-x86_64', 'dnsmasq']) ??
  (existsSync(path.join(IPXE, 'ipxe.efi')) && existsSync(path.join(IPXE, 'snponly.efi'))
    ? undefined
    : `Debian package ipxe not installed (${IPXE})`) ??
  (existsSync('/usr/share/OVMF/OVMF_CODE_4M.fd') ? undefined : 'Debian package ovmf not installed');
// radvd ends iPXE's ~13 s IPv6 router-discovery wait (realnet README); without it boots are just slower.
const ra = which('radvd') !== undefined;
const BOUND = { bios: 120, uefi: 240, denied: 40 } as const;

interface Case {
  name: string;
  firmware: Firmware;
  mac: string;
  /** Words of the marker line's script (which example rendered it). */
  example: string;
  mode: 'full' | 'proxy';
  /** Address the guest must end up with, when fixed. */
  ip?: string;
}

/** Boots one guest and checks serial + pxekit logs; returns the boot for timing. */
async function bootCase(t: TestContext, lan: Lan, px: PxekitProc, c: Case): Promise<BootResult> {
  const since = px.mark();
  const boot = await lan.bootQemu({
    firmware: c.firmware,
    mac: c.mac,
    marker: MARKER,
    timeoutSec: c.firmware === 'bios' ? BOUND.bios : BOUND.uefi,
  });
  // The script's last TFTP ACK and the marker leave the guest together; pxekit logs tftp.done when that ACK
  // arrives, which may still be on its way when the marker is seen: wait for it (bounded) before reading.
  const probeDone = () =>
    since().some((l) => l.event === 'tftp.done' && String(l['path'] ?? '').includes('tftp-probe.txt'));
  if (boot.ok) await waitFor(probeDone, 5000, 'tftp.done for tftp-probe.txt').catch(() => undefined);
  const logs = since();
  const why = () => diagnostics(boot, logs, px);
  t.diagnostic(`${c.name}: ${boot.result} after ${(boot.elapsedMs / 1000).toFixed(1)} s (QEMU start to marker)`);
  assert.ok(boot.ok, `no marker: ${why()}`);
  assert.ok(boot.serial.includes(`pxekit ${c.example}`), `the ${c.example} script did not run: ${why()}`);
  assert.match(boot.serial, new RegExp(`client +${c.mac}`), `script not rendered for ${c.mac}: ${why()}`);
  if (c.ip) assert.ok(boot.serial.includes(`leased ${c.ip}, iPXE has ${c.ip}`), `expected address ${c.ip}: ${why()}`);

  const mine = (e: string) => logs.filter((l) => l.event === e && l.mac === c.mac);
  if (c.mode === 'full') {
    assert.ok(mine('dhcp.offer').length > 0, `no dhcp.offer for ${c.mac}: ${why()}`);
    assert.ok(
      mine('dhcp.ack').some((l) => !c.ip || l['yiaddr'] === c.ip),
      `no dhcp.ack for ${c.mac}: ${why()}`,
    );
  } else {
    // ProxyDHCP: boot info only, the address comes from the site server (pxekit drops the REQUEST to it).
    assert.ok(mine('dhcp.proxy.offer').length > 0, `no dhcp.proxy.offer for ${c.mac}: ${why()}`);
    assert.deepEqual([...mine('dhcp.offer'), ...mine('dhcp.ack')], [], 'a proxy never offers an address');
    // EDK2 takes no boot file from the :67 offer; it asks the boot server on 4011 (firmware-quirks.md).
    if (c.firmware === 'uefi')
      assert.ok(mine('dhcp.bootserver.ack').length > 0, `no 4011 boot-server ACK for ${c.mac}: ${why()}`);
  }
  const scriptGets = logs.filter(
    (l) => l.event === 'http.request' && String(l['path']).startsWith('/boot.ipxe') && l['status'] === 200,
  );
  assert.ok(scriptGets.length > 0, `no HTTP GET of /boot.ipxe in pxekit's log: ${why()}`);

  assert.ok(
    px.listening.some((l) => l.protocol === 'tftp'),
    'pxekit reports a TFTP listener',
  );
  assert.ok(boot.serial.includes('PXEKIT-TFTP-OK'), `the script's TFTP fetch failed: ${why()}`);
  const tftpDone = logs.filter((l) => l.event === 'tftp.done').map((l) => String(l['path'] ?? l['file'] ?? ''));
  assert.ok(
    tftpDone.some((p) => p.includes('tftp-probe.txt')),
    `no tftp.done for tftp-probe.txt: ${why()}`,
  );
  if (c.firmware === 'uefi')
    assert.ok(
      tftpDone.some((p) => /(ipxe|snponly)\.efi/.test(p)),
      `EDK2 fetched no iPXE binary over TFTP: ${why()}`,
    );
  return boot;
}

function diagnostics(boot: BootResult, logs: LogLine[], px: PxekitProc): string {
  const events = logs
    .filter((l) => l.event && !['http.client.error'].includes(l.event))
    .map((l) =>
      JSON.stringify({
        event: l.event,
        mac: l.mac,
        path: l['path'],
        status: l['status'],
        reason: l['reason'],
        yiaddr: l['yiaddr'],
        file: l['file'],
      }),
    );
  return (
    `result=${boot.result} code=${boot.code}\n--- qemu-pxe.sh ---\n${tail(boot.log, 1500)}\n--- serial ---\n${tail(boot.serial, 3000)}` +
    `\n--- pxekit events ---\n${tail(events.join('\n'), 4000)}\n--- pxekit output ---\n${tail(px.proc.output(), 1500)}`
  );
}

function elapsed(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

test(
  'full DHCP mode (examples/full-dhcp): BIOS and UEFI guests boot, a MAC outside the allowlist gets nothing',
  { skip, timeout: 600_000 },
  async (t) => {
    await withLan(t, { name: 'e2efull', taps: 1, ra }, async (lan) => {
      const px = await startPxekit(lan, 'examples/full-dhcp/pxekit.config.yaml');

      await t.test(
        'BIOS (iPXE ROM, arch 0): DHCP → HTTP per-host script (+ TFTP fetch) → marker',
        { timeout: (BOUND.bios + 40) * 1000 },
        async (st) => {
          const t0 = Date.now();
          await bootCase(st, lan, px, {
            name: 'BIOS full',
            firmware: 'bios',
            mac: '52:54:00:e2:e0:01',
            example: 'full-dhcp',
            mode: 'full',
            ip: '10.77.0.10',
          });
          st.diagnostic(`BIOS full case: ${elapsed(t0)} wall`);
        },
      );

      await t.test(
        'denied: a MAC outside the allowlist gets no offer and never boots',
        { timeout: (BOUND.denied + 40) * 1000 },
        async (st) => {
          const t0 = Date.now();
          const mac = '02:00:00:e2:e0:99';
          const since = px.mark();
          const boot = await lan.bootQemu({ firmware: 'bios', mac, marker: MARKER, timeoutSec: BOUND.denied });
          const logs = since();
          assert.equal(boot.result, 'timeout', diagnostics(boot, logs, px));
          assert.ok(!boot.serial.includes(MARKER));
          const forMac = (e: string) => logs.filter((l) => l.event === e && l.mac === mac);
          assert.deepEqual([...forMac('dhcp.offer'), ...forMac('dhcp.ack')], [], 'no offer or ack for a denied MAC');
          // The guest did reach pxekit (so the silence is the allowlist, not a broken LAN).
          assert.ok(
            forMac('admit.deny').some((l) => String(l['reason']).includes('not in allowlist')),
            diagnostics(boot, logs, px),
          );
          st.diagnostic(`denied case: ${elapsed(t0)} wall`);
        },
      );

      await t.test(
        'UEFI (OVMF, arch 7): full DHCP → TFTP ipxe.efi → iPXE → HTTP script → marker',
        { timeout: (BOUND.uefi + 40) * 1000 },
        async (st) => {
          const t0 = Date.now();
          await bootCase(st, lan, px, {
            name: 'UEFI full',
            firmware: 'uefi',
            mac: '52:54:00:e2:e0:02',
            example: 'full-dhcp',
            mode: 'full',
            ip: '10.77.0.11',
          });
          st.diagnostic(`UEFI full case: ${elapsed(t0)} wall`);
        },
      );
    });
  },
);

test(
  'proxy mode (examples/quickstart) beside a site DHCP server: BIOS and UEFI guests boot',
  { skip, timeout: 600_000 },
  async (t) => {
    await withLan(t, { name: 'e2eproxy', taps: 1, ra }, async (lan) => {
      // The site's DHCP server: addresses only, no PXE options (test/lab/README.md).
      const dhcpNs = await lan.addHost('dhcp', '10.77.0.3/24');
      const dir = mkdtempSync(path.join(tmpdir(), 'pxk-e2e-site-'));
      const site = lan.spawnIn(dhcpNs, 'dnsmasq', [
        '-k',
        '--port=0',
        '--bind-interfaces',
        '--interface=eth0',
        '--dhcp-range=10.77.0.100,10.77.0.200,1h',
        `--dhcp-leasefile=${path.join(dir, 'site.leases')}`,
        `--pid-file=${path.join(dir, 'site.pid')}`,
      ]);
      await lan.waitForUdpListen(dhcpNs, 67, 10_000).catch((err: unknown) => {
        throw new Error(`site dnsmasq did not start: ${String(err)}\n${site.output()}`);
      });
      const px = await startPxekit(lan, 'examples/quickstart/pxekit.config.yaml');

      await t.test(
        'BIOS (iPXE ROM): address from the site server, boot info from pxekit → marker',
        { timeout: (BOUND.bios + 40) * 1000 },
        async (st) => {
          const t0 = Date.now();
          const boot = await bootCase(st, lan, px, {
            name: 'BIOS proxy',
            firmware: 'bios',
            mac: '52:54:00:e2:e0:03',
            example: 'quickstart',
            mode: 'proxy',
          });
          assert.match(
            boot.serial,
            /address 10\.77\.0\.(1\d\d|200)\b/,
            "the address comes from the site server's range",
          );
          st.diagnostic(`BIOS proxy case: ${elapsed(t0)} wall`);
        },
      );

      await t.test(
        'UEFI (OVMF): site address, pxekit 4011 boot server → TFTP snponly.efi → iPXE → marker',
        { timeout: (BOUND.uefi + 40) * 1000 },
        async (st) => {
          const t0 = Date.now();
          const boot = await bootCase(st, lan, px, {
            name: 'UEFI proxy',
            firmware: 'uefi',
            mac: '52:54:00:e2:e0:04',
            example: 'quickstart',
            mode: 'proxy',
          });
          assert.match(
            boot.serial,
            /address 10\.77\.0\.(1\d\d|200)\b/,
            "the address comes from the site server's range",
          );
          st.diagnostic(`UEFI proxy case: ${elapsed(t0)} wall`);
        },
      );
    });
  },
);

test(
  'UEFI HTTP boot (examples/uefi-http-boot): OVMF HTTPv4 → snponly.efi over HTTP → iPXE → script',
  { skip, timeout: 360_000 },
  async (t) => {
    await withLan(t, { name: 'e2ehttp', taps: 1, ra }, async (lan) => {
      const px = await startPxekit(lan, 'examples/uefi-http-boot/pxekit.config.yaml');
      const mac = '52:54:00:e2:e0:05';
      const since = px.mark();
      const t0 = Date.now();
      const boot = await lan.bootQemu({ firmware: 'uefi-http', mac, marker: MARKER, timeoutSec: BOUND.uefi });
      // The script's access line is logged as its response closes and comes through pxekit's stdout, which the
      // marker on the serial line can beat: wait for it (bounded) before reading.
      const scriptGot = () => since().some((l) => l.event === 'http.request' && l['path'] === '/boot.ipxe');
      if (boot.ok) await waitFor(scriptGot, 5000, 'http.request for /boot.ipxe').catch(() => undefined);
      const logs = since();
      const why = () => diagnostics(boot, logs, px);
      t.diagnostic(
        `UEFI HTTP boot: ${boot.result} after ${(boot.elapsedMs / 1000).toFixed(1)} s (QEMU start to marker), ${elapsed(t0)} wall`,
      );
      assert.ok(boot.ok, `no marker: ${why()}`);
      assert.ok(boot.serial.includes(`pxekit uefi-http-boot: ${mac}`), `the script did not run: ${why()}`);
      // The firmware's own request: arch 16, answered with a URL (HTTPClient echoed, or it would not have fetched).
      const offers = logs.filter((l) => l.event === 'dhcp.offer' && l.mac === mac);
      assert.ok(
        offers.some((l) => l['arch'] === 16 && /^http:\/\/10\.77\.0\.1\/snponly\.efi$/.test(String(l['bootFile']))),
        `no arch-16 offer with the URL: ${why()}`,
      );
      const gets = (p: string) =>
        logs.filter(
          (l) => l.event === 'http.request' && l['path'] === p && l['method'] === 'GET' && l['status'] === 200,
        );
      assert.ok(gets('/snponly.efi').length > 0, `the firmware did not GET snponly.efi: ${why()}`);
      assert.ok(gets('/boot.ipxe').length > 0, `iPXE did not GET its script: ${why()}`);
      // This config taps neither the request nor the script hook: EDK2's HTTP client (snponly.efi, by sendfile)
      // and iPXE's (the script) are answered on the lean HTTP path (core/http/lean-connection.ts).
      assert.ok(
        gets('/snponly.efi').every((l) => l['lean'] === true),
        `snponly.efi not served lean: ${why()}`,
      );
      assert.ok(
        gets('/boot.ipxe').every((l) => l['lean'] === true),
        `boot.ipxe not served lean: ${why()}`,
      );
    });
  },
);
