import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import type { ByteRange, FileHandle } from '../files/types.js';

/**
 * A generated file (per-host grub.cfg, pxelinux config, rendered template) as a FileHandle: the size is
 * known up front (TFTP tsize, HTTP Content-Length) and the ETag is the content hash, so a client's
 * conditional GET works across renders that give the same bytes.
 */
export function memoryFile(
  path: string,
  content: string | Buffer,
  source: string,
  mtime: Date = new Date(),
): FileHandle {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 20)}"`;
  return {
    path,
    size: body.length,
    mtime,
    etag,
    source,
    open(range?: ByteRange): Promise<Readable> {
      const slice = range ? body.subarray(range.start, Math.min(range.end + 1, body.length)) : body;
      return Promise.resolve(Readable.from(slice.length ? [slice] : [], { objectMode: false }));
    },
  };
}
