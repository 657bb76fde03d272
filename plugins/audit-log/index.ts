import { constants as fsConstants, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { definePlugin, PxeError, STAGE_LAST } from 'pxekit';
import { recordFromEvent, type AuditRecord } from './record.js';
import { AuditWriter } from './writer.js';
import { auditCommand } from './cli.js';
import { fromBase } from 'pxekit/kit';

export interface AuditLogOptions {
  /** JSON-lines file, relative to the config file's folder. */
  file?: string;
  /** Also (or only) write each record as a pino JSON line on stdout. */
  stdout: boolean;
  fsyncIntervalMs: number;
  rotateBytes: number;
  keep: number;
  queueSize: number;
  retryIntervalMs: number;
}

const NAME = 'audit-log';

export default function auditLog(options: Partial<AuditLogOptions> = {}) {
  return definePlugin<AuditLogOptions>({
    name: NAME,
    options,
    commands: [auditCommand],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        file: {
          type: 'string',
          minLength: 1,
          description: "audit file (JSON lines, hash-chained); relative to the config file's folder",
        },
        stdout: {
          type: 'boolean',
          default: false,
          description: 'also write every record to stdout as a pino JSON line (event "audit.record"); not chained',
        },
        fsyncIntervalMs: {
          type: 'integer',
          minimum: 0,
          default: 1000,
          description: 'fsync the file this often when something was written; 0 = after every batch',
        },
        rotateBytes: {
          type: 'integer',
          minimum: 4096,
          default: 104857600,
          description: 'rotate when the file would grow past this size (FILE → FILE.1 …)',
        },
        keep: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          default: 5,
          description: 'rotated files kept (FILE.1 … FILE.keep)',
        },
        queueSize: {
          type: 'integer',
          minimum: 16,
          default: 10000,
          description:
            'records held in memory while the writer catches up; when full the oldest is dropped and counted in "lost"',
        },
        retryIntervalMs: {
          type: 'integer',
          minimum: 10,
          default: 5000,
          description: 'after a failed write (disk full), try again this often',
        },
      },
    },
    // validate: the file (or, for a new file, its folder) must be writable, or start fails with PXE_ERR_AUDIT_WRITE.
    async check({ options: o, baseDir }) {
      if (!o.file) return [];
      const file = fromBase(baseDir, o.file);
      const target = existsSync(file) ? file : dirname(file);
      try {
        await access(target, fsConstants.W_OK);
        return [];
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        return [
          {
            severity: 'error' as const,
            key: 'file',
            message: `cannot write the audit file ${file}`,
            found: `${target === file ? 'the file' : 'its folder'}: ${code === 'ENOENT' ? 'does not exist' : code}`,
            expected: 'a writable file, or a writable folder to create it in',
            fix: 'create the folder and let the user pxekit runs as write there, or choose another "file"',
          },
        ];
      }
    },
    apply(server, { options: o, log, baseDir }) {
      if (!o.file && !o.stdout) {
        throw new PxeError('PXE_ERR_CONFIG_INVALID', `${NAME}: set "file", "stdout: true", or both`, {
          fix: 'e.g. [audit-log, { file: ./audit.jsonl }]',
        });
      }
      const writer = o.file
        ? new AuditWriter({
            file: fromBase(baseDir, o.file),
            fsyncIntervalMs: o.fsyncIntervalMs,
            rotateBytes: o.rotateBytes,
            keep: o.keep,
            queueSize: o.queueSize,
            retryIntervalMs: o.retryIntervalMs,
            log,
          })
        : undefined;
      // Its own logger: audit records must not depend on the server's log level.
      const out: Logger | undefined = o.stdout
        ? pino({ base: { name: 'pxekit-audit' } }, pino.destination({ dest: 1, sync: false }))
        : undefined;
      let stdoutSeq = 0;

      // Last, so the record sees what every other observer saw; the tap only queues.
      server.hooks.bootEvent.tap({ name: NAME, stage: STAGE_LAST }, (ev) => {
        const rec: AuditRecord = recordFromEvent(ev);
        writer?.push(rec);
        out?.info({ event: 'audit.record', seq: ++stdoutSeq, ...rec });
      });
      server.hooks.ready.tapPromise(NAME, async () => {
        if (!writer) return;
        try {
          await writer.open();
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          throw new PxeError('PXE_ERR_AUDIT_WRITE', `${NAME}: cannot open ${o.file}: ${e.message}`, {
            cause: err,
            fix: 'check that the folder exists or can be created and is writable by pxekit',
          });
        }
        log.info({ event: 'audit.opened', file: o.file, ...writer.stats }, 'audit log open');
      });
      server.hooks.close.tapPromise(NAME, async () => {
        if (writer) {
          const r = await writer.close();
          log.info(
            { event: 'audit.closed', file: o.file, seq: r.seq, head: r.head, lost: r.lost },
            'audit log closed; anchor "head" elsewhere to detect a rewrite of the whole file',
          );
        }
        if (out) await new Promise<void>((done) => out.flush(() => done()));
      });
    },
  });
}
