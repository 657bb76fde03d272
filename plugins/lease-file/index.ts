/**
 * lease-file: a durable lease store for full-mode DHCP. Leases are kept in memory and every change
 * is appended to a CRC-checked write-ahead log; an ACK is sent only after its lease is on disk, so
 * nothing acknowledged is lost on `kill -9`. See README.md for the exact guarantee.
 */
import { definePlugin } from 'pxekit';
import { FileLeaseStore } from './file-store.js';
import type { FsyncMode } from './wal-writer.js';

export interface LeaseFileOptions {
  /** The log file, relative to the config file's folder; the snapshot is `<path>.snapshot`. */
  path: string;
  /** `batch`: group commit (one fsync per group); `always`: one fsync per lease. */
  fsync: FsyncMode;
  /** Group-commit window in ms (`batch` only). */
  batchMs: number;
  /** Compact the log into a snapshot once it holds this many bytes. */
  compactEveryBytes: number;
}

export { FileLeaseStore } from './file-store.js';
import { fromBase } from 'pxekit/kit';

const NAME = 'lease-file';

export default function leaseFile(options: Partial<LeaseFileOptions> = {}) {
  return definePlugin<LeaseFileOptions>({
    name: NAME,
    options,
    provides: ['leaseStore'],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: {
          type: 'string',
          minLength: 1,
          default: 'leases.log',
          description:
            "the lease log, relative to the config file's folder (the snapshot is <path>.snapshot, the lock <path>.lock)",
        },
        fsync: {
          enum: ['always', 'batch'],
          default: 'batch',
          description:
            'batch: leases committed within batchMs share one fdatasync (group commit); always: one ' +
            'fdatasync per lease. Either way an ACK is sent only after its lease is on disk',
        },
        batchMs: {
          type: 'number',
          minimum: 0,
          maximum: 1000,
          default: 8,
          description:
            'group-commit window in milliseconds (fsync batch): under load leases are written and synced in groups at ' +
            'most once per batchMs; a lease that finds the log idle is written at once',
        },
        compactEveryBytes: {
          type: 'integer',
          minimum: 4096,
          default: 16 * 1024 * 1024,
          description:
            'compact the log once it reaches this size: rotate it (appends go on in a new log) and write a snapshot beside them',
        },
      },
    },
    apply(_server, { options: o, log, baseDir, config, provide }) {
      if (config.dhcp.mode !== 'full' && config.dhcp6.mode !== 'full') {
        // Only full mode (DHCPv4 or DHCPv6: one store holds both) hands out addresses; proxy never opens a store.
        log.warn(
          { event: 'lease-file.unused', mode: config.dhcp.mode, mode6: config.dhcp6.mode },
          `lease-file does nothing in dhcp.mode ${config.dhcp.mode} with dhcp6.mode ${config.dhcp6.mode}: only full mode keeps leases`,
        );
        return;
      }
      const file = fromBase(baseDir, o.path);
      provide(
        'leaseStore',
        new FileLeaseStore({ file, fsync: o.fsync, batchMs: o.batchMs, compactEveryBytes: o.compactEveryBytes, log }),
      );
    },
  });
}
