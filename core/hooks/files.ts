import { AsyncSeriesBailHook } from 'tapable';
import type { FileHandle } from '../files/types.js';
import type { BootSession } from '../session/types.js';
import type { HookRunner } from './runner.js';

/** A request for one file of the virtual tree that TFTP and HTTP serve. */
export interface ResolveRequest {
  /** Safe, normalised virtual path starting with `/` (never contains `..`, NUL or backslashes). */
  path: string;
  protocol: 'tftp' | 'http' | 'explain';
  session?: BootSession;
  clientAddress?: string;
}

/** Hooks of the virtual file tree that TFTP and HTTP serve: file sources answer `resolve`. */
export interface FilesHooks {
  /**
   * Find a file. Each source taps this with its mount prefix; config order (and `stage`) is mount
   * precedence: two sources on one prefix overlay, the first that has the file wins.
   *
   * @when For each TFTP read, HTTP file request and `pxekit explain`, with a safe, normalised path.
   * @returns A `FileHandle` (`path`, `size`, `mtime?`, `etag?`, `source`, `open(range?)`, `openReader?()`)
   *   with the size known before the first byte (TFTP `tsize`, HTTP `Content-Length`), or `undefined` when
   *   the source does not have the file.
   * @onError The request fails: TFTP ERROR 0, HTTP 500; logged by the protocol.
   * @example
   * ```ts
   * server.files.hooks.resolve.tapPromise('motd', async (req) => {
   *   if (req.path !== '/motd.txt') return undefined;
   *   return memoryFile(req.path, 'hello\n', 'motd');
   * });
   * ```
   */
  resolve: AsyncSeriesBailHook<[ResolveRequest], FileHandle | undefined>;
}

export function createFilesHooks(runner: HookRunner): FilesHooks {
  return {
    resolve: runner.register(
      'files.resolve',
      new AsyncSeriesBailHook<[ResolveRequest], FileHandle | undefined>(['request']),
    ),
  };
}
