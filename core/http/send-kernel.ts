/**
 * The zero-copy body path: when the file has a descriptor (a disk source), the response is a plain TCP
 * socket and the addon is built, the kernel sends the body with sendfile(2) (core/native/send-file.c)
 * instead of reading it into buffers and writing those back out. Node keeps the socket: headers go out
 * through it first, the body through the addon, then node ends the response as usual (keep-alive
 * intact). A lean-path response (lean-response.ts) hands its head to the addon instead, which sends it with
 * MSG_MORE right before the body, so it leaves in the body's first segment. The socket is corked
 * (TCP_CORK) from the headers to the body's end, as nginx's `tcp_nopush`: full segments only, headers in
 * the first one (core/native/send-file.ts says why; PXEKIT_SENDFILE_CORK=0 turns it off). While the kernel sends, node sees
 * no socket activity, so the idle timer is re-armed on progress: a client that stops reading still meets
 * the server's idle timeout, which destroys the socket and cancels the send.
 */
import { once } from 'node:events';
import type { HttpResponseLike } from './exchange.js';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { ECANCELED, kernelSender, type KernelSender } from '../native/send-file.js';

const { EPIPE, ECONNRESET } = constants.errno;

/** What writing the body did. */
export interface BodyResult {
  /** Body bytes handed to the socket. */
  bytes: number;
  complete: boolean;
  /** The client went away mid-body. */
  aborted?: boolean;
  /** The source failed or yielded the wrong length (the caller cuts the connection). */
  error?: unknown;
}

/** Smaller bodies are not worth a handover (one buffered write is as fast). */
export const KERNEL_SEND_MIN = 256 << 10;
const PROGRESS_CHECK_MS = 1000;

/** The sendfile path (or why there is none), looked up once, on first use. */
let kernelPath: { sender?: KernelSender; failure?: string } | undefined;
const lookUp = () => (kernelPath ??= kernelSender());

let started = 0;

/** Bodies handed to sendfile(2) since the process started (tests check the path was taken). */
export function kernelSendCount(): number {
  return started;
}

/** The socket's descriptor when it is a plain TCP socket node owns (not TLS, not a test double). */
function socketFd(res: HttpResponseLike): number | undefined {
  const handle = (res.socket as (Socket & { _handle?: { fd?: number } }) | null)?._handle;
  // TCPWrap exposes its descriptor; TLS and injected sockets have none (or -1).
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 && !('encrypted' in (res.socket ?? {})) ? fd : undefined;
}

/**
 * Sets the sendfile path up now (its thread starts): undefined when it is ready or not offered (no addon,
 * PXEKIT_SENDFILE=0), else why it cannot start — file bodies then take the buffered path.
 */
export function prepareKernelSend(): string | undefined {
  return lookUp().failure;
}

/** Whether this body can go by sendfile(2); the caller then calls `sendByKernel`. */
export function canSendByKernel(res: HttpResponseLike, fileFd: number | undefined, length: number): boolean {
  if (fileFd === undefined || length < KERNEL_SEND_MIN) return false;
  return lookUp().sender !== undefined && socketFd(res) !== undefined;
}

/** Waits until node has written everything it queued on the socket (the headers). */
async function flushed(socket: Socket, res: HttpResponseLike): Promise<boolean> {
  const handle = (socket as Socket & { _handle?: { writeQueueSize?: number } })._handle;
  for (let i = 0; i < 1000 && !res.destroyed; i++) {
    if (socket.writableLength === 0 && (handle?.writeQueueSize ?? 0) === 0) return true;
    if (socket.writableLength > 0) await Promise.race([once(socket, 'drain'), once(res, 'close')]);
    else await new Promise((r) => setImmediate(r));
  }
  return false;
}

/** Sends `length` bytes of `fileFd` from `start` after the headers; the caller ends the response. */
export async function sendByKernel(
  res: HttpResponseLike,
  fileFd: number,
  start: number,
  length: number,
): Promise<BodyResult> {
  const socket = res.socket!;
  const fd = socketFd(res)!;
  const kernel = lookUp().sender!; // canSendByKernel said yes
  // Corked (a no-op with PXEKIT_SENDFILE_CORK=0): the headers wait in the socket for the first body bytes,
  // and no sendfile call pushes a partial segment; the job uncorks when it ends.
  kernel.cork(fd, true);
  // Only while node still has the descriptor open (else the number may already be another file's).
  const uncork = () => {
    if (socketFd(res) === fd && !socket.destroyed) kernel.cork(fd, false);
  };
  // The lean path's head goes with the body's first segment (send-file.c); node's is written by node first.
  const head = kernel.takesHead ? res.takeHead?.() : undefined;
  if (!head) {
    res.flushHeaders();
    if (!(await flushed(socket, res))) {
      uncork();
      return { bytes: 0, complete: false, aborted: true };
    }
  }
  let job;
  try {
    job = kernel.send(fd, fileFd, start, length, head);
  } catch (err) {
    uncork(); // the job never started (e.g. dup: too many open files), so it cannot uncork
    throw err;
  }
  started++;
  const onClose = () => job.cancel();
  res.once('close', onClose);
  const watched: Watched = { job, socket, seen: 0 };
  watch(watched);
  try {
    const r = await job.done;
    if (r.errno === 0) return { bytes: r.sent, complete: true };
    // Cancelled (the response closed) or the peer went away: the client aborted, as on the buffered path.
    if (r.errno === ECANCELED || r.errno === EPIPE || r.errno === ECONNRESET)
      return { bytes: r.sent, complete: false, aborted: true };
    const err = Object.assign(new Error(`sendfile: errno ${r.errno}`), { errno: r.errno });
    return { bytes: r.sent, complete: false, error: err };
  } finally {
    unwatch(watched);
    res.off('close', onClose);
  }
}

/** A send in flight, checked for progress by the one shared watcher. */
interface Watched {
  job: { progress(): number };
  socket: Socket;
  seen: number;
}

// One interval for all sends in flight, not a timer per response (setInterval + clearInterval per request showed).
const inFlight = new Set<Watched>();
let watcher: NodeJS.Timeout | undefined;

function watch(w: Watched): void {
  inFlight.add(w);
  if (watcher === undefined) {
    watcher = setInterval(checkProgress, PROGRESS_CHECK_MS);
    watcher.unref();
  }
}

function unwatch(w: Watched): void {
  inFlight.delete(w);
}

/** A send that moved since the last check re-arms its socket's idle timer; the watcher stops once idle. */
function checkProgress(): void {
  if (inFlight.size === 0) {
    clearInterval(watcher);
    watcher = undefined;
    return;
  }
  for (const w of inFlight) {
    const now = w.job.progress();
    if (now !== w.seen && w.socket.timeout) w.socket.setTimeout(w.socket.timeout);
    w.seen = now;
  }
}
