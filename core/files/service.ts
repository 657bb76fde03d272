import { createFilesHooks, type FilesHooks, type ResolveRequest } from '../hooks/files.js';
import type { HookRunner } from '../hooks/runner.js';
import type { FileHandle } from './types.js';
import { LITERAL_PATH_OPTIONS, normalizeVirtualPath } from './path.js';

/** The virtual file tree: sources tap `server.files.hooks.resolve`; TFTP, HTTP and `explain` call `resolve`. */
export class FilesService {
  readonly hooks: FilesHooks;

  constructor(runner: HookRunner) {
    this.hooks = createFilesHooks(runner);
  }

  /**
   * Resolves a requested path through the sources, after making it safe. Returns undefined when the
   * path is unsafe (`reason` says why) or no source has the file.
   */
  async resolve(requestedPath: string, req: Omit<ResolveRequest, 'path'>): Promise<FileHandle | undefined> {
    const norm = normalizeVirtualPath(requestedPath, LITERAL_PATH_OPTIONS);
    if (!norm.ok) return undefined;
    return this.hooks.resolve.promise({ ...req, path: norm.path });
  }
}
