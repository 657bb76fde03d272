/**
 * Faults the addon meets at run time on its own (fault.c): its io_uring failing (TFTP replies then go by
 * sendmsg, tftp.batch.fallback) or the sendfile thread's epoll_wait failing (http.sendfile.wait.failed).
 * No call returns them, so the services listen here and log them. With no listener a fault goes to stderr:
 * never silent.
 */
import { constants } from 'node:os';
import { nativeBinding, type NativeBinding } from './binding.js';

export interface NativeFault {
  /** The log event name, `area.thing` (docs/log-events.md). */
  event: string;
  errno: number;
  /** The errno's name (EINPROGRESS, EBADF...), or the number as text. */
  code: string;
}

type Listener = (fault: NativeFault) => void;

const listeners = new Set<Listener>();
/** Bindings whose handler is set (one; tests pass others). */
const handled = new WeakSet<NativeBinding>();

const errnoName = (errno: number): string =>
  Object.entries(constants.errno).find(([, v]) => v === errno)?.[0] ?? String(errno);

function dispatch(event: string, errno: number): void {
  const fault = { event, errno, code: errnoName(errno) };
  if (listeners.size === 0) {
    process.stderr.write(`pxekit native: ${event}: ${fault.code}\n`);
    return;
  }
  for (const l of listeners) l(fault);
}

/**
 * Calls `listener` with each fault the addon reports from now on; returns the call that stops it. Nothing
 * happens without the addon (then there is nothing to fail). `b`: the addon (tests pass one).
 */
export function onNativeFault(listener: Listener, b: NativeBinding | undefined = nativeBinding().binding): () => void {
  if (!b?.onFault) return () => {};
  if (!handled.has(b)) {
    b.onFault(dispatch);
    handled.add(b);
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}
