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
 * BENCH_BOOT_FIRMWARE_ROUNDS=n interleaved rounds of the firmware rows, default 3; BENCH_BOOT_ROUNDS=3 for medians of
 * the Linux rows)
 */
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Firmware } from '../test/helpers/realnet.js';
import { benchDir, withBenchLan, isMain, progress } from './lib/bench-lan.js';
import { printTable } from './lib/report.js';
import { median, roundOrder } from './lib/rounds.js';
import { startServer, type BaseContext, type RunningServer } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import { dnsmasqBoot } from './targets/dnsmasq.js';
import { nginxHttp } from './targets/http-servers.js';
import { pxekitTarget } from './targets/pxekit.js';
import { runLinuxBootRows } from './linux-boot.js';

const MARKER = 'PXEKIT-BOOT-OK';
/** Rounds of the firmware rows (BENCH_BOOT_ROUNDS also repeats the Linux rows: bench/linux-boot.ts). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_BOOT_FIRMWARE_ROUNDS ?? 3) || 3);
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
    // Interleaved rounds: the stacks take turns (round r starts with the next one), median per firmware.
    const times = new Map<string, number[]>(); // `${stack} ${fw}` -> seconds of the boots that reached the marker
    const failures = new Map<string, string>(); // the first failure of a stack/firmware
    for (let r = 0; r < (firmwares.length ? ROUNDS : 0); r++) {
      for (const stack of roundOrder(stacks, r)) {
        const running: RunningServer[] = [];
        try {
          for (const t of stack.targets) running.push(await startServer(t, base));
          for (const [i, fw] of firmwares.entries()) {
            progress(`boot ${stack.name}: ${fw} (round ${r + 1}/${ROUNDS})`);
            // A fresh MAC per boot, so no server answers from an earlier lease.
            const mac = `52:54:00:b${r}:0${stack.name === 'pxekit' ? 1 : 0}:${(16 + i).toString(16)}`;
            const b = await lan.bootQemu({ firmware: fw, mac, marker: MARKER, timeoutSec: TIMEOUT_SEC[fw] ?? 180 });
            const key = `${stack.name} ${fw}`;
            if (b.ok) times.set(key, [...(times.get(key) ?? []), b.elapsedMs / 1000]);
            else if (!failures.has(key)) {
              const lastLine = b.serial.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
              failures.set(key, `${b.result}: ${lastLine.slice(0, 120)}`);
            }
          }
        } catch (e) {
          progress(`boot ${stack.name}: ${(e as Error).message}`);
          for (const fw of firmwares)
            failures.set(`${stack.name} ${fw}`, `skipped: ${(e as Error).message.slice(0, 200)}`);
        } finally {
          await Promise.all(running.map((x) => x.stop()));
        }
      }
    }
    for (const stack of firmwares.length ? stacks : []) {
      for (const fw of firmwares) {
        const key = `${stack.name} ${fw}`;
        const runs = times.get(key) ?? [];
        const failed = failures.get(key);
        const note =
          `median of ${runs.length} (${runs.map((t) => t.toFixed(1)).join(', ')} s); ` +
          (failed ? `a failed boot: ${failed}; ` : '') +
          stack.targets.map((t) => t.note).join('; ');
        rows.push({
          bench: 'boot',
          metric: `QEMU ${fw} power-on to marker`,
          unit: 's',
          target: stack.name,
          value: runs.length ? median(runs) : undefined,
          note: runs.length ? note : (failed ?? 'no boot'),
          higherIsBetter: false,
        });
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
