/**
 * Zero-copy file bodies (send-file.c): hands a socket to sendfile(2) for `length` bytes of a file and
 * resolves when they are all sent, the socket failed, or the caller cancelled. Undefined without the
 * addon (callers then read and write as usual).
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

export type KernelSendFn = (socketFd: number, fileFd: number, position: number, length: number) => KernelSend;

/** The sendfile path, or undefined when the addon is not there (or PXEKIT_SENDFILE=0). */
export function kernelSendFn(): KernelSendFn | undefined {
  const b = nativeBinding().binding;
  if (!b?.sendFile || process.env.PXEKIT_SENDFILE === '0') return undefined;
  return (socketFd, fileFd, position, length) => {
    let finished = false;
    let last = 0;
    let resolveDone!: (r: { errno: number; sent: number }) => void;
    const done = new Promise<{ errno: number; sent: number }>((r) => (resolveDone = r));
    const job = b.sendFile(socketFd, fileFd, position, length, (errno, sent) => {
      finished = true;
      last = sent;
      resolveDone({ errno, sent });
    });
    return {
      done,
      progress: () => (finished ? last : b.sendFileProgress(job)),
      cancel: () => {
        if (!finished) b.cancelSendFile(job);
      },
    };
  };
}
