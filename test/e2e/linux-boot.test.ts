/**
 * Machines boot Linux to userspace over pxekit (issue 17): QEMU under TCG on a namespace LAN, pxekit started
 * from the examples as a user would, Debian's signed shim, signed network GRUB and signed kernels
 * (test/lab/boot-assets.sh), and an initramfs built here whose /init prints a marker and powers off.
 *
 *   examples/secure-boot:  (3) UEFI x64 with Secure Boot enforced: shim → GRUB → per-host grub.cfg → kernel
 *                          (4) arm64 UEFI: shimaa64 → GRUB → per-host grub.cfg → kernel
 *                          (1) BIOS: iPXE ROM → per-host iPXE script → kernel + initrd over HTTP
 *   examples/linux-ipxe:   (2) UEFI x64 without Secure Boot: EDK2 → snponly.efi → script → kernel over HTTP
 *                          and the negative run: the same unsigned snponly.efi refused by Secure Boot firmware
 *
 * Each boot logs power-on → marker (qemu-pxe.sh's clock) and what pxekit sent per protocol.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { realnetAvailable, which, withLan, type BootResult, type Firmware, type Lan } from '../helpers/realnet.js';
import { tail, waitFor } from '../helpers/proc.js';
import { USERSPACE_MARKER } from '../helpers/initramfs.js';
import { assembleExample, bootAssetsMissing, bootAssetVersions, firmwareEnv } from '../helpers/boot-assets.js';
import { startPxekit, type LogLine, type PxekitProc } from './pxekit-proc.js';
import { bootTraffic, formatTraffic } from './boot-traffic.js';

const missingAssets = bootAssetsMissing();
// In CI the assets are prepared by .ci/run: their absence is a failure there, a skip elsewhere.
const skip =
  realnetAvailable(['qemu-system-x86_64', 'qemu-system-aarch64']) ??
  (missingAssets && process.env.CI !== 'true' ? missingAssets : undefined) ??
  (existsSync('/usr/lib/ipxe/snponly.efi') ? undefined : 'Debian package ipxe not installed');
const ra = which('radvd') !== undefined;
/** Guest bound per boot (s): TCG on a loaded 2-core machine; measured 20-40 s each. */
const BOUND = 240;

interface Machine {
  name: string;
  firmware: Firmware;
  mac: string;
  /** Files pxekit must have sent, in any order: `tftp:/path` or `http:/path`. */
  sent: string[];
  /** Text the serial console must show besides the marker. */
  serial?: RegExp[];
  /**
   * HTTP paths by the path that must have answered them: `lean` (kernel, initrd: no tap takes them, so the
   * lean path and sendfile), `node` (the per-host script: host-profiles' or templates' tap, on node:http).
   */
  httpVia?: { lean: string[]; node: string[] };
}

/** What pxekit logged as sent in `lines`: `tftp:/path` per finished transfer, `http:/path` per 200. */
function* sentFiles(lines: LogLine[]): Generator<string> {
  for (const l of lines) {
    if (l.event === 'tftp.done') yield `tftp:/${String(l['path']).replace(/^\/+/, '')}`;
    if (l.event === 'http.request' && l['status'] === 200) yield `http:${String(l['path']).split('?')[0]}`;
  }
}

async function bootLinux(t: TestContext, lan: Lan, px: PxekitProc, m: Machine): Promise<BootResult> {
  assert.ok(!missingAssets, missingAssets);
  const since = px.mark();
  const boot = await lan.bootQemu({
    firmware: m.firmware,
    mac: m.mac,
    marker: USERSPACE_MARKER,
    timeoutSec: BOUND,
    env: firmwareEnv(),
  });
  const markerAt = Date.now();
  const sentBy = (lines: LogLine[]) => new Set([...sentFiles(lines)]);
  // The marker comes over the guest's serial line and pxekit's log over its stdout: give a completion the
  // guest already depends on (the last file's final ACK) a bounded moment to be logged, and say so.
  const allSent = () => m.sent.every((f) => sentBy(since()).has(f));
  await waitFor(allSent, 5_000, 'the files the guest loaded to be logged').catch(() => undefined); // asserted below
  const logs = since();
  const late = m.sent.filter((f) => !sentBy(logs.filter((l) => Number(l['time']) <= markerAt)).has(f));
  if (late.length) t.diagnostic(`${m.name}: logged after the marker: ${late.join(' ')}`);
  const why = () => diagnostics(boot, logs, px);
  t.diagnostic(`${m.name}: ${boot.result}, power-on → userspace ${(boot.elapsedMs / 1000).toFixed(1)} s`);
  t.diagnostic(`${m.name}: ${formatTraffic(bootTraffic(logs))}`);
  assert.ok(boot.ok, `no userspace marker: ${why()}`);
  const sent = sentBy(logs);
  for (const f of m.sent) assert.ok(sent.has(f), `pxekit did not send ${f} (sent: ${[...sent].join(' ')}): ${why()}`);
  const answered = (p: string) =>
    logs.filter((l) => l.event === 'http.request' && l['path'] === p && l['status'] === 200);
  for (const p of m.httpVia?.lean ?? [])
    assert.ok(
      answered(p).every((l) => l['lean'] === true),
      `${p} was not answered on the lean path: ${why()}`,
    );
  for (const p of m.httpVia?.node ?? [])
    assert.ok(
      answered(p).every((l) => l['lean'] === undefined),
      `${p} was not answered by node:http: ${why()}`,
    );
  for (const re of m.serial ?? []) assert.match(boot.serial, re, why());
  return boot;
}

function diagnostics(boot: BootResult, logs: LogLine[], px: PxekitProc): string {
  const events = logs
    .filter(
      (l) => l.event && /^(dhcp\.(offer|ack)|tftp\.(done|error)|http\.request|template\.|host-profiles)/.test(l.event),
    )
    .map((l) =>
      JSON.stringify({
        event: l.event,
        mac: l.mac,
        path: l['path'],
        status: l['status'],
        bytes: l['bytes'],
        reason: l['reason'],
        bootFile: l['bootFile'],
      }),
    );
  return (
    `result=${boot.result} code=${boot.code}\n--- qemu-pxe.sh ---\n${tail(boot.log, 1000)}\n--- serial ---\n${tail(boot.serial, 3000)}` +
    `\n--- pxekit events ---\n${tail(events.join('\n'), 4000)}\n--- pxekit output ---\n${tail(px.proc.output(), 1500)}`
  );
}

/** The example copied into a temp folder with ./boot filled from the cached Debian packages. */
function exampleTree(t: TestContext, example: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `pxk-linux-${example}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return assembleExample(example, dir);
}

test(
  'examples/secure-boot: Secure Boot x64 (shim → GRUB → kernel), arm64 (shimaa64 → GRUB), BIOS (iPXE) reach userspace',
  { skip, timeout: 3 * (BOUND + 60) * 1000 },
  async (t) => {
    t.diagnostic(`Debian packages:\n${bootAssetVersions()}`);
    const config = exampleTree(t, 'secure-boot');
    await withLan(t, { name: 'lnxsb', taps: 1, ra }, async (lan) => {
      const px = await startPxekit(lan, config);

      await t.test(
        '(3) UEFI x64, Secure Boot enforced: signed shim → signed GRUB → per-host grub.cfg → signed kernel',
        async (st) => {
          const boot = await bootLinux(st, lan, px, {
            name: 'uefi-sb x64',
            firmware: 'uefi-sb',
            mac: '52:54:00:17:00:03',
            sent: [
              'tftp:/shimx64.efi',
              'tftp:/grubx64.efi',
              'tftp:/grub/grub.cfg',
              'tftp:/linux/x64/vmlinuz',
              'tftp:/linux/x64/initrd.img',
            ],
            // GRUB's menu entry title comes from the per-host grub.cfg pxekit rendered for this MAC.
            serial: [/secureboot: Secure boot enabled/, /Booting `linux-x64 for 52:54:00:17:00:03'/, /arch=x86_64/],
          });
          assert.doesNotMatch(boot.serial, /Access Denied/, 'nothing was refused on the signed path');
        },
      );

      await t.test('(4) arm64 UEFI: shimaa64 → GRUB → per-host grub.cfg → Debian arm64 kernel', async (st) => {
        await bootLinux(st, lan, px, {
          name: 'arm64',
          firmware: 'arm64',
          mac: '52:54:00:17:00:04',
          sent: [
            'tftp:/shimaa64.efi',
            'tftp:/grubaa64.efi',
            'tftp:/grub/grub.cfg',
            'tftp:/linux/aa64/vmlinuz',
            'tftp:/linux/aa64/initrd.img',
          ],
          serial: [/Booting `linux-aa64 for 52:54:00:17:00:04'/, /arch=aarch64/],
        });
      });

      await t.test('(1) BIOS: iPXE ROM → per-host iPXE script → kernel + initrd over HTTP', async (st) => {
        await bootLinux(st, lan, px, {
          name: 'bios',
          firmware: 'bios',
          mac: '52:54:00:17:00:01',
          sent: ['http:/boot.ipxe', 'http:/linux/x64/vmlinuz', 'http:/linux/x64/initrd.img'],
          serial: [/pxekit: linux-x64 for 52:54:00:17:00:01/, /arch=x86_64/],
          httpVia: { lean: ['/linux/x64/vmlinuz', '/linux/x64/initrd.img'], node: ['/boot.ipxe'] },
        });
      });
    });
  },
);

test(
  'examples/linux-ipxe: UEFI x64 (snponly.efi → HTTP kernel) reaches userspace; Secure Boot firmware refuses that unsigned iPXE',
  { skip, timeout: 2 * (BOUND + 60) * 1000 },
  async (t) => {
    const config = exampleTree(t, 'linux-ipxe');
    await withLan(t, { name: 'lnxipxe', taps: 1, ra }, async (lan) => {
      const px = await startPxekit(lan, config);

      await t.test(
        '(2) UEFI x64 without Secure Boot: EDK2 → TFTP snponly.efi → iPXE → HTTP kernel + initrd',
        async (st) => {
          await bootLinux(st, lan, px, {
            name: 'uefi x64 ipxe',
            firmware: 'uefi',
            mac: '52:54:00:17:00:02',
            sent: ['tftp:/snponly.efi', 'http:/boot.ipxe', 'http:/linux/x64/vmlinuz', 'http:/linux/x64/initrd.img'],
            serial: [/pxekit: linux-x64 for 52:54:00:17:00:02/, /arch=x86_64/],
            httpVia: { lean: ['/linux/x64/vmlinuz', '/linux/x64/initrd.img'], node: ['/boot.ipxe'] },
          });
        },
      );

      await t.test('negative: Secure Boot firmware downloads the unsigned snponly.efi and refuses it', async (st) => {
        const since = px.mark();
        const boot = await lan.bootQemu({
          firmware: 'uefi-sb',
          mac: '52:54:00:17:00:05',
          marker: 'Access Denied',
          failMarker: 'iPXE initialising',
          timeoutSec: BOUND,
          env: firmwareEnv(),
        });
        const logs = since();
        st.diagnostic(`uefi-sb unsigned: ${boot.result} after ${(boot.elapsedMs / 1000).toFixed(1)} s`);
        assert.ok(boot.ok, `the firmware did not refuse the unsigned binary: ${diagnostics(boot, logs, px)}`);
        assert.ok(
          logs.some((l) => l.event === 'tftp.done' && String(l['path']).endsWith('snponly.efi')),
          `the refusal came after the download: ${diagnostics(boot, logs, px)}`,
        );
        assert.ok(!boot.serial.includes(USERSPACE_MARKER));
      });
    });
  },
);
