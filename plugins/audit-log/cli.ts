import type { CommandIo, PluginCommand } from 'pxekit';
import { verifyAuditFiles } from 'pxekit/kit';

const USAGE = `Usage: pxekit audit verify FILE [FILE...]
  Checks an audit-log hash chain. Give rotated files oldest first to check the links between them:
    pxekit audit verify audit.jsonl.2 audit.jsonl.1 audit.jsonl
  Prints the first bad line as FILE:LINE and exits 1; exits 0 when the chain is intact.`;

/** `pxekit audit verify FILE...` — the chain check is `verifyAuditFiles` of pxekit/kit. */
async function runAuditCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...files] = argv;
  if (sub === '--help' || sub === '-h') {
    io.out(USAGE);
    return 0;
  }
  if (sub !== 'verify' || files.length === 0 || files.some((f) => f.startsWith('-'))) {
    io.err(USAGE);
    return 2;
  }
  const r = await verifyAuditFiles(files);
  if (!r.ok && r.bad) {
    io.out(`${r.bad.file}:${r.bad.line}: ${r.bad.reason}`);
    const good = `${r.records} good record${r.records === 1 ? '' : 's'}`;
    io.err(`audit verify: FAILED at ${r.bad.file} line ${r.bad.line} (${good} before it)`);
    return 1;
  }
  const range = r.records ? `seq ${r.firstSeq}..${r.lastSeq}` : 'empty';
  const head = r.head ? `, head ${r.head}` : '';
  const partial = r.partial ? '; chain starts mid-way, give the older rotated files too to check its start' : '';
  io.out(`OK: ${r.records} record${r.records === 1 ? '' : 's'} (${range})${head}${partial}`);
  return 0;
}

/** `pxekit audit verify FILE...`, contributed by the audit-log plugin; needs no config. */
export const auditCommand: PluginCommand = {
  name: 'audit',
  summary: "verify FILE... — check an audit log's hash chain (exit 1 at the first bad line)",
  usage: USAGE,
  run: runAuditCommand,
};
