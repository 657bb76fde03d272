/**
 * Loads pxekit's optional native addon (core/native/*.c, built by build.mjs during `npm ci`) once.
 * Everything that uses it has a pure-node fallback; `PXEKIT_NATIVE=0` forces the fallbacks.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

type Handle = object;

/** The addon's functions; tests may pass a fake to NativeUdpSocket. */
export interface NativeBinding {
  open(
    local: string,
    peer: string,
    port: number,
    recv: Buffer,
    cb: (kind: number, value: number, steps: number) => void,
  ): Handle;
  send(h: Handle, buf: Buffer, len: number): number;
  wantWritable(h: Handle, want: boolean): void;
  armReply(h: Handle, key: Buffer, buf: Buffer, len: number): void;
  /** Absent in an addon built before the chain existed (a stale build): transfers then use armReply. */
  armChain?(
    h: Handle,
    key: Buffer,
    buf: Buffer,
    len: number,
    fd: number,
    slot0: Buffer,
    slot1: Buffer,
    block: number,
    blksize: number,
    size: number,
  ): void;
  chainSteps?(h: Handle): number;
  batchMode?(): 'io_uring' | 'sendmsg' | 'off';
  batchCounts?(): [number, number];
  disarm(h: Handle): void;
  localPort(h: Handle): number;
  close(h: Handle): void;
  readCached(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  copy(dst: Buffer, dstOffset: number, src: Buffer, srcOffset: number, length: number): void;
  sendFile(
    socketFd: number,
    fileFd: number,
    position: number,
    length: number,
    cb: (errno: number, sent: number) => void,
    /** Sent before the body (MSG_MORE); only when `sendFileHead` is true (an older build would ignore it). */
    head?: Buffer,
  ): Handle;
  /** This build's sendFile takes a head to send first. */
  sendFileHead?: boolean;
  cancelSendFile(job: Handle): void;
  /** The DHCP socket (dhcp-socket.c); absent in a stale build. Returns -errno when the bind fails. */
  dgramOpen?(
    address: string,
    port: number,
    reuseAddr: boolean,
    slots: Buffer,
    meta: Int32Array,
    cb: (kind: number, value: number) => void,
    /** Drop datagrams that waited longer in the kernel's queue (0: no limit; older builds ignore it). */
    maxAgeMs?: number,
  ): Handle | number;
  dgramSend?(h: Handle, buf: Buffer, len: number, addr: number, port: number): number;
  dgramWantWritable?(h: Handle, want: boolean): void;
  dgramLocalPort?(h: Handle): number;
  dgramClose?(h: Handle): void;
  sendFileProgress(job: Handle): number;
  /** Starts the sendfile thread now: undefined once it runs, else why it cannot. Absent in a stale build. */
  sendFileStart?(): string | undefined;
  /** TCP_CORK on a socket (send-file.c); 0 or an errno. Absent in a stale build. */
  corkSocket?(socketFd: number, on: boolean): number;
  /** The TFTP listening socket with each request's destination address (listen-socket.c); absent in a stale build. */
  listenOpen?(
    address: string,
    port: number,
    ipv6Only: boolean,
    recv: Buffer,
    cb: (kind: number, value: number, from: string, fromPort: number, to: string) => void,
  ): Handle | number;
  listenSend?(h: Handle, buf: Buffer, len: number, address: string, port: number, from: string): number;
  listenLocalPort?(h: Handle): number;
  listenClose?(h: Handle): void;
  /** Sets this thread's handler of run-time faults (fault.c); absent in a stale build. */
  onFault?(cb: (event: string, errno: number) => void): void;
  /** Reports a fault from another thread, as the addon's own threads do (tests of the path). */
  raiseFault?(event: string, errno: number): void;
}

export const NATIVE_ADDON_PATH = join(PACKAGE_ROOT, 'core', 'native', 'build', 'pxekit_native.node');

let loaded: { binding?: NativeBinding; reason?: string } | undefined;

/** The binding, or why there is none. */
export function nativeBinding(): { binding?: NativeBinding; reason?: string } {
  loaded ??= load();
  return loaded;
}

function load(): { binding?: NativeBinding; reason?: string } {
  if (process.env.PXEKIT_NATIVE === '0') return { reason: 'PXEKIT_NATIVE=0' };
  try {
    return { binding: createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeBinding };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      reason:
        code === 'MODULE_NOT_FOUND'
          ? `${NATIVE_ADDON_PATH} was not built (npm ci found no C compiler?)`
          : `failed to load: ${(err as Error).message}`,
    };
  }
}
