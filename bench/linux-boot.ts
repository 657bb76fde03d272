/**
 * Linux boot benchmark: seconds from QEMU power-on to a marker printed from userspace (the test initramfs of
 * test/helpers/initramfs.ts), per firmware, for pxekit started from the examples and for the reference
 * (dnsmasq DHCP + TFTP, nginx HTTP) serving the same files with the equivalent static configs, same LAN, same
 * run, one guest at a time (TCG), interleaved per firmware; BENCH_BOOT_ROUNDS=n repeats everything n times and
 * reports medians (this machine is shared: single boots swing by ±50 %). The Debian files: test/lab/boot-assets.sh.
 *
 *   bios    SeaBIOS iPXE ROM → HTTP boot.ipxe → kernel + initrd over HTTP        (examples/secure-boot)
 *   uefi-sb OVMF Secure Boot → TFTP shimx64 → grubx64 → grub.cfg → kernel over TFTP (examples/secure-boot)
 *   arm64   AAVMF → TFTP shimaa64 → grubaa64 → grub.cfg → kernel over TFTP          (examples/secure-boot)
 *   uefi    OVMF → TFTP snponly.efi → HTTP boot.ipxe → kernel over HTTP              (examples/linux-ipxe)
 *
 * dnsmasq cannot render per host: its grub.cfg picks the kernel with GRUB's `$grub_cpu`, its boot.ipxe is the
 * x64 script; both carry the same kernels and command lines as pxekit's templates.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assembleExample, bootAssetsMissing, firmwareEnv } from '../test/helpers/boot-assets.js';
import { USERSPACE_MARKER } from '../test/helpers/initramfs.js';
import type { Firmware, Lan } from '../test/helpers/realnet.js';
import { benchDir, progress } from './lib/bench-lan.js';
import { startServer, type BaseContext, type RunningServer } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import { nginxHttp } from './targets/http-servers.js';
import { dnsmasqDhcpArgs } from '../test/helpers/dnsmasq.js';
import { which } from '../test/helpers/realnet.js';

const TIMEOUT_SEC = 240;
const BIN = path.resolve(import.meta.dirname, '../bin/pxekit.js');

/** One example: the firmwares it boots and its tree (config + ./boot). */
interface Phase {
  example: 'secure-boot' | 'linux-ipxe';
  firmwares: Firmware[];
}
const PHASES: Phase[] = [
  { example: 'secure-boot', firmwares: ['bios', 'uefi-sb', 'arm64'] },
  { example: 'linux-ipxe', firmwares: ['uefi'] },
];

function pxekitExample(config: string): Target {
  return {
    name: 'pxekit',
    note: 'the example config as is',
    services: ['boot'],
    prepare: () => ({
      cmd: process.execPath,
      args: [BIN, 'start', '--config', config, '--log-level', 'warn'],
      ready: async (c) => {
        await c.lan.waitForUdpListen(c.lan.srvNs, 67, 15_000);
        await c.lan.waitForUdpListen(c.lan.srvNs, 69, 15_000);
        await c.lan.waitForTcpListen(c.lan.srvNs, 80, 15_000);
      },
    }),
  };
}

/** dnsmasq with the example's boot-file choices; `bootDir` is the example's ./boot plus the static configs. */
function dnsmasqExample(phase: Phase, bootDir: string, addr: string): Target {
  const uefiFile = phase.example === 'secure-boot' ? 'shimx64.efi' : 'snponly.efi';
  return {
    name: 'dnsmasq',
    note: 'DHCP + TFTP (no ping check), static grub.cfg/boot.ipxe; HTTP by nginx',
    services: ['boot'],
    unavailable: () => (which('dnsmasq') ? undefined : 'dnsmasq not installed (dnsmasq-base)'),
    prepare: (ctx) => ({
      cmd: 'dnsmasq',
      args: [
        ...dnsmasqDhcpArgs({ dir: ctx.workDir }),
        '--enable-tftp',
        `--tftp-root=${bootDir}`,
        '--dhcp-userclass=set:ipxe,iPXE',
        '--dhcp-match=set:efi64,option:client-arch,7',
        '--dhcp-match=set:efi64,option:client-arch,9',
        '--dhcp-match=set:arm64,option:client-arch,11',
        `--dhcp-boot=tag:ipxe,http://${addr}/boot.ipxe`,
        `--dhcp-boot=tag:efi64,tag:!ipxe,${uefiFile}`,
        '--dhcp-boot=tag:arm64,tag:!ipxe,shimaa64.efi',
      ],
      ready: async (c) => {
        await c.lan.waitForUdpListen(c.lan.srvNs, 67, 10_000);
        await c.lan.waitForUdpListen(c.lan.srvNs, 69, 10_000);
      },
    }),
  };
}

/** The static files dnsmasq + nginx need where pxekit renders per host. */
function writeStaticConfigs(bootDir: string): void {
  mkdirSync(path.join(bootDir, 'grub'), { recursive: true });
  writeFileSync(
    path.join(bootDir, 'grub', 'grub.cfg'),
    `set timeout=0
set default=0
menuentry "linux" {
  if [ "$grub_cpu" = "arm64" ]; then
    linux /linux/aa64/vmlinuz console=ttyAMA0 quiet
    initrd /linux/aa64/initrd.img
  else
    linux /linux/x64/vmlinuz console=ttyS0 quiet
    initrd /linux/x64/initrd.img
  fi
}
`,
  );
  writeFileSync(
    path.join(bootDir, 'boot.ipxe'),
    `#!ipxe
kernel /linux/x64/vmlinuz initrd=initrd.img console=ttyS0 quiet
initrd --name initrd.img /linux/x64/initrd.img
boot
`,
  );
  copyFileSync('/usr/lib/ipxe/snponly.efi', path.join(bootDir, 'snponly.efi'));
}

/**
 * Rows "power-on to userspace" per firmware, dnsmasq+nginx first (the reference), then pxekit. `only`: the
 * firmwares to boot (default all four). pxekit serves the same ./boot: its host-profiles answer /grub/grub.cfg
 * and /boot.ipxe before the file sources, so the static copies written there for dnsmasq are never its answer.
 */
export async function runLinuxBootRows(lan: Lan, only?: readonly Firmware[]): Promise<Row[]> {
  const missing = bootAssetsMissing();
  if (missing) {
    progress(`linux boot: skipped: ${missing}`);
    return [
      {
        bench: 'boot',
        metric: 'Linux power-on to userspace',
        unit: 's',
        target: 'pxekit',
        note: missing,
        higherIsBetter: false,
      },
    ];
  }
  const rounds = Math.max(1, Number(process.env.BENCH_BOOT_ROUNDS ?? 1) || 1);
  const results = new Map<string, { phase: Phase; fw: Firmware; stack: string; secs: number[]; fails: string[] }>();
  let boots = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const phase of PHASES) {
      const firmwares = phase.firmwares.filter((f) => !only || only.includes(f));
      if (!firmwares.length) continue;
      const dir = benchDir(`linux-${phase.example}`);
      const config = assembleExample(phase.example, dir);
      const bootDir = path.join(dir, 'boot');
      writeStaticConfigs(bootDir);
      const base: BaseContext = { lan, service: 'boot', root: bootDir };
      const stacks: Array<[string, Target[]]> = [
        ['dnsmasq', [dnsmasqExample(phase, bootDir, lan.srvAddr), nginxHttp()]],
        ['pxekit', [pxekitExample(config)]],
      ];
      // Interleaved per firmware (reference then pxekit), so both see the same machine load.
      for (const fw of firmwares) {
        for (const [stack, targets] of stacks) {
          const key = `${fw}\0${stack}`;
          const r = results.get(key) ?? { phase, fw, stack, secs: [], fails: [] };
          results.set(key, r);
          const running: RunningServer[] = [];
          try {
            for (const t of targets) running.push(await startServer(t, base));
            progress(`linux boot ${stack}: ${fw} (round ${round}/${rounds})`);
            const mac = `52:54:00:b1:${hex(boots >> 8)}:${hex(boots)}`; // a fresh MAC per boot: no old lease
            boots++;
            const b = await lan.bootQemu({
              firmware: fw,
              mac,
              marker: USERSPACE_MARKER,
              timeoutSec: TIMEOUT_SEC,
              env: firmwareEnv(),
            });
            const last = b.serial.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
            if (b.ok) r.secs.push(b.elapsedMs / 1000);
            else r.fails.push(`${b.result}: ${last.slice(0, 100)}`);
          } catch (e) {
            r.fails.push(`failed: ${(e as Error).message.slice(0, 160)}`);
          } finally {
            await Promise.all(running.map((x) => x.stop()));
          }
        }
      }
    }
  }
  // Reference first per metric (the table's ratio is to the first row of a metric).
  const rows: Row[] = [...results.values()].map((r) => ({
    bench: 'boot',
    metric: `Linux ${r.fw} power-on to userspace`,
    unit: 's',
    target: r.stack,
    value: median(r.secs),
    note: [
      `${r.phase.example}`,
      rounds > 1 ? `median of ${r.secs.length}: ${r.secs.map((x) => x.toFixed(1)).join(', ')}` : '',
      ...r.fails,
    ]
      .filter(Boolean)
      .join('; '),
    higherIsBetter: false,
  }));
  return rows;
}

const hex = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

function median(xs: readonly number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}
