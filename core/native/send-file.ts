/**
 * Zero-copy file bodies (send-file.c): hands a socket to sendfile(2) for `length` bytes of a file and
 * resolves when they are all sent, the socket failed, or the caller cancelled. Undefined without the
 * addon (callers then read and write as usual). The socket is corked first (TCP_CORK, as nginx's
 * `tcp_nopush`: the headers leave with the body's first bytes, and no sendfile call pushes a partial
 * segment); the send uncorks it when it ends. PXEKIT_SENDFILE_CORK=0 turns that off.
 * Why on: node's sockets have TCP_NODELAY, so uncorked every sendfile call that ends inside a segment
 * pushes a short one (about 24,900 packets per GiB against nginx's 20,300). On the Intel bench machine
 * (2026-12-06) one 1 GiB download then ran at 1,900-2,000 MiB/s, corked at 2,300-2,600 (nginx
 * 2,600-2,900), and 20 concurrent downloads at the same rate either way (`npm run bench:http-cpu`,
 * CONC=1 SIZE_MIB=1024, 4-5 rounds of 3, VARIANTS='plain:PXEKIT_SENDFILE_CORK=0;cork:'). On the AMD machine
 * of earlier sessions the single download ran slower corked (0.79x nginx against 0.99x), with sendfile
 * still on the event loop: measure before turning it off.
 */
import { constants } from 'node:os';
import { nativeBinding, type NativeBinding } from './binding.js';

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
   * TCP_CORK on (hold partial segments) or off (push them now) on a socket the caller has open (nothing
   * when PXEKIT_SENDFILE_CORK=0). A send started after `cork(fd, true)` takes the cork off when it
   * ends, whatever the outcome.
   */
  cork(socketFd: number, on: boolean): void;
}

/**
 * The sendfile path: `sender`, or none when the addon is not there (or PXEKIT_SENDFILE=0), or none and
 * `failure` (why) when the addon offers it but its thread cannot start: file bodies then take the buffered
 * path, not an error per download. `b`: the addon (tests pass a stand-in).
 */
export function kernelSender(b: NativeBinding | undefined = nativeBinding().binding): {
  sender?: KernelSender;
  failure?: string;
} {
  if (!b?.sendFile || process.env.PXEKIT_SENDFILE === '0') return {};
  const failure = b.sendFileStart?.();
  if (failure !== undefined) return { failure };
  const corkSocket = process.env.PXEKIT_SENDFILE_CORK === '0' ? undefined : b.corkSocket;
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
  return { sender: { send, takesHead: b.sendFileHead === true, cork: (fd, on) => void corkSocket?.(fd, on) } };
}
