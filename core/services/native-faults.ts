/**
 * Logs the faults the native addon meets at run time on its own (core/native/faults.ts), through the
 * server's logger, while the server runs. Each names what changed for the operator and what to look at.
 */
import type { Logger } from 'pino';
import { onNativeFault, type NativeFault } from '../native/faults.js';

const explain: Record<string, { level: 'warn' | 'error'; msg: (f: NativeFault) => string }> = {
  'tftp.batch.fallback': {
    level: 'warn',
    msg: (f) =>
      `the io_uring that sends TFTP replies together failed (${f.code}): replies now go by one sendmsg each ` +
      '(correct, a little more CPU per block); PXEKIT_IO_URING=0 makes that the choice from the start',
  },
  'http.sendfile.wait.failed': {
    level: 'error',
    msg: (f) =>
      `the sendfile thread's epoll_wait failed (${f.code}): HTTP file bodies in flight stall while it retries ` +
      'every 100 ms; restart pxekit, or set PXEKIT_SENDFILE=0 to send bodies through node',
  },
};

/** Logs every native fault (event, errno, code) until the returned call. */
export function logNativeFaults(log: Logger): () => void {
  return onNativeFault((f) => {
    const e = explain[f.event] ?? { level: 'error', msg: () => `native addon fault ${f.event} (${f.code})` };
    log[e.level]({ event: f.event, errno: f.errno, code: f.code }, e.msg(f));
  });
}
