/**
 * Page-cache reads without the thread pool (file-read.c): `readCached` answers at once with the bytes
 * when they are in memory, or -1 when the read would wait for the disk (or the addon or the kernel
 * cannot tell), and the caller then reads asynchronously as usual. Never blocks the event loop.
 */
import { constants } from 'node:os';
import { nativeBinding } from './binding.js';

const { EOPNOTSUPP, ENOSYS, EINVAL } = constants.errno;
/** Set once the kernel or file system turns out not to support RWF_NOWAIT reads. */
let unsupported = false;

/** The synchronous cached read, or undefined when there is no addon. */
export function cachedReadFn():
  ((fd: number, buf: Buffer, offset: number, length: number, position: number) => number) | undefined {
  const b = nativeBinding().binding;
  if (!b) return undefined;
  return (fd, buf, offset, length, position) => {
    if (unsupported) return -1;
    const r = b.readCached(fd, buf, offset, length, position);
    if (r >= 0) return r;
    if (r === -EOPNOTSUPP || r === -ENOSYS || r === -EINVAL) unsupported = true;
    // -EAGAIN: not cached. Other errors (EIO, …) are left to the async read, which reports them properly.
    return -1;
  };
}

/** Copies `src[srcOffset, +length)` into `dst` at `dstOffset` without allocating (Buffer.copy of a slice allocates a view). */
export const copyBytes: (dst: Buffer, dstOffset: number, src: Buffer, srcOffset: number, length: number) => void =
  nativeBinding().binding?.copy ??
  ((dst, dstOffset, src, srcOffset, length) => void src.copy(dst, dstOffset, srcOffset, srcOffset + length));
