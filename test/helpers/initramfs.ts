/**
 * A minimal initramfs for the Linux-boot tests: a gzip'd newc cpio (the format the kernel unpacks) holding a
 * static busybox and an `/init` script that prints a marker on the console and powers the machine off.
 * Built in memory, no root needed (the /dev/console node is written as a cpio entry, not with mknod).
 */
import { gzipSync } from 'node:zlib';

/** What `/init` prints once userspace runs; the boot tests wait for it on the serial console. */
export const USERSPACE_MARKER = 'PXEKIT-USERSPACE-OK';

interface Entry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): Buffer {
  return Buffer.alloc((4 - (n % 4)) % 4);
}

/** One newc record: header, NUL-terminated name padded to 4, data padded to 4. */
function record(e: Entry, ino: number): Buffer[] {
  const data = e.data ?? Buffer.alloc(0);
  const name = Buffer.from(`${e.name}\0`);
  const [rmaj, rmin] = e.rdev ?? [0, 0];
  const fields = [ino, e.mode, 0, 0, e.mode & S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rmaj, rmin, name.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return [header, name, pad4(header.length + name.length), data, pad4(data.length)];
}

/**
 * The initramfs image (gzip'd cpio). `busybox` is a static busybox for the guest's architecture (Debian's
 * busybox-static); the init prints the kernel's Secure Boot line, then `USERSPACE_MARKER`, the machine name (`uname -m`) and `tag`, then
 * `poweroff -f`.
 */
export function buildInitramfs(busybox: Buffer, tag = ''): Buffer {
  // The marker is assembled at run time so the text of this script can never be mistaken for it.
  const init = [
    '#!/bin/busybox sh',
    'bb=/bin/busybox',
    `m="PXEKIT-USER""SPACE-OK"`,
    // The kernel logs its Secure Boot state ("secureboot: Secure boot enabled") below `quiet`'s console level.
    `sb=$($bb dmesg | $bb grep -i -m1 -E 'secure boot (enabled|disabled)')`,
    '$bb echo "pxekit-init: ${sb:-no secure boot line in dmesg}"',
    `$bb echo "$m arch=$($bb uname -m) kernel=$($bb uname -r) ${tag}"`,
    '$bb poweroff -f',
    '',
  ].join('\n');
  const entries: Entry[] = [
    { name: 'bin', mode: S_IFDIR | 0o755 },
    { name: 'dev', mode: S_IFDIR | 0o755 },
    { name: 'proc', mode: S_IFDIR | 0o755 },
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(init) },
  ];
  const parts = entries.flatMap((e, i) => record(e, i + 1));
  parts.push(...record({ name: 'TRAILER!!!', mode: 0 }, 0));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}
