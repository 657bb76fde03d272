/**
 * The Debian files the Linux-boot tests and `npm run bench:boot` serve (signed shim, signed network GRUB,
 * signed kernels, static busybox, OVMF/AAVMF firmware), as unpacked by test/lab/boot-assets.sh into a cache
 * folder, and the boot tree an example config serves (its `./boot`), assembled from them in a temp folder.
 */
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInitramfs } from './initramfs.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `$PXEKIT_BOOT_ASSETS`, else `<repo>/.cache/boot-assets` (what boot-assets.sh fills). */
export function bootAssetsDir(): string {
  return path.resolve(process.env.PXEKIT_BOOT_ASSETS ?? path.join(REPO_ROOT, '.cache/boot-assets'));
}

/** Why the boot assets cannot be used, or undefined when the cache is complete. */
export function bootAssetsMissing(): string | undefined {
  const dir = bootAssetsDir();
  return existsSync(path.join(dir, 'VERSIONS'))
    ? undefined
    : `boot assets not in ${dir} (run: bash test/lab/boot-assets.sh; .ci/run does it)`;
}

/** `package arch version` lines of the cached packages. */
export function bootAssetVersions(): string {
  return readFileSync(path.join(bootAssetsDir(), 'VERSIONS'), 'utf8').trim();
}

/** Environment for qemu-pxe.sh: the cached firmware instead of the host's /usr/share copies. */
export function firmwareEnv(): NodeJS.ProcessEnv {
  const fw = path.join(bootAssetsDir(), 'firmware');
  return {
    OVMF_CODE: path.join(fw, 'OVMF_CODE_4M.fd'),
    OVMF_VARS: path.join(fw, 'OVMF_VARS_4M.fd'),
    OVMF_SB_CODE: path.join(fw, 'OVMF_CODE_4M.secboot.fd'),
    OVMF_SB_VARS: path.join(fw, 'OVMF_VARS_4M.ms.fd'),
    AAVMF_CODE: path.join(fw, 'AAVMF_CODE.fd'),
    AAVMF_VARS: path.join(fw, 'AAVMF_VARS.fd'),
  };
}

function place(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  try {
    linkSync(from, to); // same file system: no copy of the kernels
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * Copies an example (its config and templates, as they are) into `dest` and fills `dest/boot` with the layout
 * the example's README documents:
 *
 *   shimx64.efi grubx64.efi shimaa64.efi grubaa64.efi   linux/x64/{vmlinuz,initrd.img}  linux/aa64/{vmlinuz,initrd.img}
 *
 * The initrds are built here (busybox + an init printing the marker). Returns the config path.
 */
export function assembleExample(example: string, dest: string): string {
  const src = path.join(REPO_ROOT, 'examples', example);
  cpSync(src, dest, { recursive: true, filter: (f) => !f.endsWith('.test.ts') && !f.endsWith('README.md') });
  const assets = bootAssetsDir();
  const boot = path.join(dest, 'boot');
  for (const [arch, efi] of [
    ['x64', 'x64'],
    ['aa64', 'aa64'],
  ] as const) {
    place(path.join(assets, arch, `shim${efi}.efi`), path.join(boot, `shim${efi}.efi`));
    place(path.join(assets, arch, `grub${efi}.efi`), path.join(boot, `grub${efi}.efi`));
    place(path.join(assets, arch, 'vmlinuz'), path.join(boot, 'linux', arch, 'vmlinuz'));
    const initrd = buildInitramfs(readFileSync(path.join(assets, arch, 'busybox')));
    writeFileSync(path.join(boot, 'linux', arch, 'initrd.img'), initrd);
  }
  return path.join(dest, 'pxekit.config.yaml');
}
