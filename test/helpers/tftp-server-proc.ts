/**
 * Runs a TftpServer in its own process, so tests can measure the server's memory alone and hit it with
 * real clients. Usage: node --import tsx test/helpers/tftp-server-proc.ts ROOT '{"singlePort":false,...}'
 * Prints one JSON line per message on stdout: {"listening":PORT}, then {"event":{...}} per boot event.
 * TFTP_PROC_POSITIONAL=0 turns the positional-read fast path off (streams, as before it existed).
 * SIGTERM → close.
 */
import pino from 'pino';
import { TftpServer } from '../../core/tftp/server.js';
import type { TftpServerOptions } from '../../core/tftp/types.js';
import { dirResolver } from './tftp-dir-source.js';

const root = process.argv[2];
if (!root) throw new Error('usage: tftp-server-proc.ts ROOT [OPTIONS_JSON]');
const extra = JSON.parse(process.argv[3] ?? '{}') as Partial<TftpServerOptions>;
const quietEvents = process.env.TFTP_PROC_EVENTS === '0';

const server = new TftpServer(
  {
    port: 0,
    address: '127.0.0.1',
    log: pino({ level: process.env.TFTP_PROC_LOG ?? 'warn' }, pino.destination(2)),
    ...extra,
  },
  {
    // TFTP_PROC_POSITIONAL=0: stream reads only (to compare memory with the positional-read fast path).
    resolve: dirResolver(root!, { positional: process.env.TFTP_PROC_POSITIONAL !== '0' }),
    event: (ev) => {
      if (!quietEvents) process.stdout.write(JSON.stringify({ event: ev }) + '\n');
    },
  },
);
const { port } = await server.listen();
process.stdout.write(JSON.stringify({ listening: port }) + '\n');
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
