/**
 * The iPXE binaries folder as an *optional* file source: source-disk (instance `source-disk#ipxe`)
 * when the folder exists, otherwise a plugin that only warns at start-up. source-disk itself fails
 * start-up on a missing root (PXE_ERR_FILE_SOURCE), which is right for a folder you configured, but
 * the quickstart must also start on a machine without Debian's `ipxe` package: iPXE-ROM clients
 * (QEMU, many NICs) need no binary at all.
 */
import { existsSync, statSync } from 'node:fs';
import { definePlugin } from '../../core/plugin.js';
import sourceDisk from '../../plugins/source-disk/index.js';

export interface IpxeBinariesOptions {
  /** Folder with undionly.kpxe, ipxe.efi, snponly.efi (Debian: /usr/lib/ipxe). */
  root: string;
  /** Prefix in pxekit's virtual tree (default `/`). */
  mount?: string;
}

export default function ipxeBinaries(options: IpxeBinariesOptions = { root: '/usr/lib/ipxe' }) {
  const root = options.root;
  const present = existsSync(root) && statSync(root).isDirectory();
  if (present) {
    return sourceDisk({ name: 'source-disk#ipxe', root, mount: options.mount ?? '/', include: ['*.kpxe', '*.kkpxe', '*.efi', '*.pxe', '*.lkrn'] });
  }
  return definePlugin<IpxeBinariesOptions>({
    name: 'ipxe-binaries',
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        root: { type: 'string', description: 'Folder with the iPXE binaries.', default: '/usr/lib/ipxe' },
        mount: { type: 'string', description: 'Prefix in the virtual tree.', default: '/' },
      },
      required: ['root'],
    },
    apply(server, { log }) {
      server.hooks.ready.tapPromise('ipxe-binaries', async () => {
        log.warn({
          event: 'files.mount.missing', root,
          fix: 'apt install ipxe (Debian/Ubuntu), or set this plugin\'s "root" to a folder with undionly.kpxe, ipxe.efi and snponly.efi',
        }, `iPXE binaries folder ${root} not found: raw PXE ROMs will get "file not found" for undionly.kpxe / snponly.efi; clients already running iPXE still boot`);
      });
    },
  });
}
