/** Options of source-git and their JSON Schema (the descriptions are the option docs). */
export interface SourceGitOptions {
  repo: string;
  ref: string;
  subdir: string;
  mount: string;
  refreshSeconds: number;
  cacheDir?: string;
  blobCache?: { dir?: string; maxBytes: number };
  timeoutSeconds: number;
  name?: string;
}

export const sourceGitSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['repo'],
  properties: {
    repo: {
      type: 'string',
      minLength: 1,
      description:
        "Repository: a local path (relative to the config file's folder, or the cwd), file://, " +
        'git://, https:// or ssh URL. It must be readable without a password prompt.',
    },
    ref: {
      type: 'string',
      minLength: 1,
      pattern: '^[^-\\s][^\\s]*$',
      default: 'HEAD',
      description: "Branch, tag or commit to serve (HEAD: the remote's default branch at clone time).",
    },
    subdir: {
      type: 'string',
      default: '',
      pattern: '^(?!.*(^|/)\\.\\.(/|$))',
      description: 'Folder of the repository that the mount maps to (default: its root).',
    },
    mount: { type: 'string', default: '/', description: 'Prefix in the virtual tree under which the files appear.' },
    refreshSeconds: {
      type: 'integer',
      minimum: 0,
      default: 60,
      description: 'Fetch and re-resolve the ref this often (0: only at start and on refresh()).',
    },
    cacheDir: {
      type: 'string',
      minLength: 1,
      description:
        "Where the bare mirror is kept (relative: to the config file's folder, or the cwd). Default: <tmpdir>/pxekit-git-<hash of repo>.",
    },
    blobCache: {
      type: 'object',
      additionalProperties: false,
      default: { maxBytes: 1073741824 },
      description:
        'On-disk cache of the blobs served, so a file goes at disk speed (sendfile) after its first request ' +
        'instead of through `git cat-file` each time. Keyed by blob id (never stale), least-recently-used eviction ' +
        'by total size. Concurrent first requests for one blob run git once.',
      properties: {
        dir: {
          type: 'string',
          minLength: 1,
          description:
            "Cache folder (relative: to the config file's folder, or the cwd). Default: pxekit-blobs inside " +
            "the mirror's folder (cacheDir). pxekit owns its content.",
        },
        maxBytes: {
          type: 'integer',
          minimum: 0,
          default: 1073741824,
          description:
            'Upper bound of the cache (default 1 GiB); blobs larger than this are never cached. 0: no cache.',
        },
      },
    },
    timeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 110,
      default: 90,
      description: 'Bound of one clone or fetch (the first clone runs in the ready step, itself bounded at 120 s).',
    },
    name: {
      type: 'string',
      minLength: 1,
      description: 'Plugin instance name (default "source-git"), to mount several repositories or refs.',
    },
  },
} as const;
