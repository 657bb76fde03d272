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

export interface FilesHooks {
  /**
   * Find a file. Each source taps this with its mount prefix; the first that answers wins, so
   * config order (and `stage`) is mount precedence. Answer undefined when the source does not have it.
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
