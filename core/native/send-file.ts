/**
 * Zero-copy file bodies (send-file.c): hands a socket to sendfile(2) for `length` bytes of a file and
 * resolves when they are all sent, the socket failed, or the caller cancelled. Undefined without the
 * addon (callers then read and write as usual). With PXEKIT_SENDFILE_CORK=1 the socket is corked first
 * (TCP_CORK, so that the headers leave with the body's first bytes, as nginx's `tcp_nopush`); the send
 * uncorks it when it ends. Off by default: corked, one download of 1 GiB ran at 0.79x nginx's rate and
 * uncorked at 0.99x (npm run bench:http-cpu, CONC=1 SIZE_MIB=1024, 6 rounds of 3, uncorked faster in all
 * 6), while the cork's saving (19,000 instead of 24,000 packets per GiB, less CPU per GiB) did not make
 * 20 concurrent downloads measurably faster.
 */
import { constants } from 'node:os';
import { nativeBinding } from './binding.js';

export interface KernelSend {
  /** errno 0 = every byte sent. */
  done: Promise<{ errno: number; sent: number }>;
  /** Bytes sent so far. */
  progress(): number;
  /** Stops now (the response was closed); `done` resolves with ECANCELED. Safe to call after `done`. */
  cancel(): void;
}

export const ECANCELED = constants.errno.ECANCELED;

export interface KernelSender {
  /** `head`: bytes sent before the body, in its first segment (only when `takesHead`). */
  send(socketFd: number, fileFd: number, position: number, length: number, head?: Buffer): KernelSend;
  /** The addon sends a response head given to `send` (else the caller writes it first). */
  readonly takesHead: boolean;
  /**
   * TCP_CORK on (hold partial segments) or off (push them now) on a socket the caller has open, when
   * PXEKIT_SENDFILE_CORK=1 (else nothing). A send started after `cork(fd, true)` takes the cork off when it
   * ends, whatever the outcome.
   */
  cork(socketFd: number, on: boolean): void;
}

/** The sendfile path, or undefined when the addon is not there (or PXEKIT_SENDFILE=0). */
export function kernelSender(): KernelSender | undefined {
  const b = nativeBinding().binding;
  if (!b?.sendFile || process.env.PXEKIT_SENDFILE === '0') return undefined;
  const corkSocket = process.env.PXEKIT_SENDFILE_CORK === '1' ? b.corkSocket : undefined;
  const send = (socketFd: number, fileFd: number, position: number, length: number, head?: Buffer): KernelSend => {
    let finished = false;
    let last = 0;
    let resolveDone!: (r: { errno: number; sent: number }) => void;
    const done = new Promise<{ errno: number; sent: number }>((r) => (resolveDone = r));
    const cb = (errno: number, sent: number) => {
      finished = true;
      last = sent;
      resolveDone({ errno, sent });
    };
    const job = head
      ? b.sendFile(socketFd, fileFd, position, length, cb, head)
      : b.sendFile(socketFd, fileFd, position, length, cb);
    return {
      done,
      progress: () => (finished ? last : b.sendFileProgress(job)),
      cancel: () => {
        if (!finished) b.cancelSendFile(job);
      },
    };
  };
  // Best effort: a socket that cannot be corked (the errno is returned) is sent to uncorked.
  return { send, takesHead: b.sendFileHead === true, cork: (fd, on) => void corkSocket?.(fd, on) };
}
