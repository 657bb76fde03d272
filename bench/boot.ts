/**
 * Boot benchmark: seconds from QEMU power-on to the marker printed by the served iPXE script,
 * for a reference stack (dnsmasq DHCP+TFTP, nginx HTTP) and for pxekit, same files, same LAN
 * (with `netns.sh ra`, so iPXE's IPv6 wait is not measured):
 *  - BIOS: SeaBIOS iPXE ROM -> DHCP -> HTTP script;
 *  - UEFI: OVMF PXE -> DHCP (arch 7) -> TFTP ipxe.efi -> iPXE DHCP -> HTTP script.
 * Then Linux to userspace per firmware (bench/linux-boot.ts): BIOS and UEFI over iPXE + HTTP, UEFI Secure Boot
 * and arm64 over shim → GRUB → TFTP, from the examples, against dnsmasq + nginx with the same files.
 * One guest at a time, TCG. Usage: npm run bench:boot
 * (BENCH_TARGETS=dnsmasq,pxekit; BENCH_BOOT_FIRMWARE=bios,uefi or none; BENCH_BOOT_LINUX=bios,uefi,uefi-sb,arm64 or none;
 * BENCH_BOOT_ROUNDS=3 for medians of the Linux rows)
 */
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Firmware } from '../test/helpers/realnet.js';
import { benchDir, withBenchLan, isMain, progress } from './lib/bench-lan.js';
import { printTable } from './lib/report.js';
import { startServer, type BaseContext, type RunningServer } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import { dnsmasqBoot } from './targets/dnsmasq.js';
import { nginxHttp } from './targets/http-servers.js';
import { pxekitTarget } from './targets/pxekit.js';
import { runLinuxBootRows } from './linux-boot.js';

const MARKER = 'PXEKIT-BOOT-OK';
const IPXE_EFI = '/usr/lib/ipxe/ipxe.efi';
const TIMEOUT_SEC: Record<string, number> = { bios: 90, uefi: 180 };

interface Stack {
  name: string;
  targets: Target[];
}
export const bootStacks = (): Stack[] => [
  { name: 'dnsmasq', targets: [dnsmasqBoot(), nginxHttp()] },
  { name: 'pxekit', targets: [pxekitTarget()] },
];

export async function runBootBench(): Promise<Row[]> {
  const want = process.env.BENCH_TARGETS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const stacks = bootStacks().filter((s) => !want?.length || want.includes(s.name));
  const firmwares = (process.env.BENCH_BOOT_FIRMWARE ?? 'bios,uefi')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'none') as Firmware[];
  if (!existsSync(IPXE_EFI)) throw new Error(`${IPXE_EFI} missing (Debian package ipxe)`);
  const root = benchDir('boot-files');
  writeFileSync(path.join(root, 'boot.ipxe'), `#!ipxe\necho ${MARKER} \${platform}\n`);
  copyFileSync(IPXE_EFI, path.join(root, 'ipxe.efi'));
  const linux = (process.env.BENCH_BOOT_LINUX ?? 'bios,uefi,uefi-sb,arm64')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'none') as Firmware[];
  const tools = ['qemu-system-x86_64', 'radvd', ...(linux.includes('arm64') ? ['qemu-system-aarch64'] : [])];
  return withBenchLan({ name: 'pxbboot', taps: 1, ra: true }, tools, async (lan) => {
    const base: BaseContext = {
      lan,
      service: 'boot',
      root,
      pool: {
        subnet: '10.77.0.0/24',
        netmask: '255.255.255.0',
        prefix: 24,
        first: '10.77.0.100',
        last: '10.77.0.199',
        router: lan.srvAddr,
      },
    };
    const rows: Row[] = [];
    for (const stack of firmwares.length ? stacks : []) {
      const row = (fw: string, value: number | undefined, note: string): Row => ({
        bench: 'boot',
        metric: `QEMU ${fw} power-on to marker`,
        unit: 's',
        target: stack.name,
        value,
        note,
        higherIsBetter: false,
      });
      const running: RunningServer[] = [];
      try {
        for (const t of stack.targets) running.push(await startServer(t, base));
      } catch (e) {
        await Promise.all(running.map((r) => r.stop()));
        progress(`boot ${stack.name}: skipped: ${(e as Error).message}`);
        rows.push(row(firmwares.join('/'), undefined, `skipped: ${(e as Error).message.slice(0, 200)}`));
        continue;
      }
      try {
        for (const [i, fw] of firmwares.entries()) {
          progress(`boot ${stack.name}: ${fw}`);
          // A fresh MAC per boot, so no server answers from an earlier lease.
          const mac = `52:54:00:b0:0${stack.name === 'pxekit' ? 1 : 0}:${(16 + i).toString(16)}`;
          const b = await lan.bootQemu({ firmware: fw, mac, marker: MARKER, timeoutSec: TIMEOUT_SEC[fw] ?? 180 });
          const lastLine = b.serial.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
          rows.push(
            row(
              fw,
              b.ok ? b.elapsedMs / 1000 : undefined,
              b.ok ? stack.targets.map((t) => t.note).join('; ') : `${b.result}: ${lastLine.slice(0, 120)}`,
            ),
          );
        }
      } finally {
        await Promise.all(running.map((r) => r.stop()));
      }
    }
    if (linux.length) rows.push(...(await runLinuxBootRows(lan, linux)));
    return rows;
  });
}

if (isMain(import.meta.url)) {
  runBootBench()
    .then((rows) => printTable('QEMU network boot: iPXE script, then Linux to userspace', rows))
    .catch((e: Error) => {
      process.stderr.write(`bench boot failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
