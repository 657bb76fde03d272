/** Options of source-s3 and their JSON Schema (the schema's descriptions are the option docs). */
export interface SourceS3Options {
  bucket: string;
  /** Key prefix inside the bucket that the mount maps to (`images/` → `/mount/x` is `images/x`). */
  prefix: string;
  mount: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1. */
  region?: string;
  /** Any S3-compatible store (`http://127.0.0.1:9000`); default AWS. */
  endpoint?: string;
  /** Default: true when `endpoint` is set, else false (virtual-hosted). */
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  profile?: string;
  credentials: 'chain' | 'instance';
  cache?: { dir: string; maxBytes: number };
  timeoutMs: number;
  name?: string;
}

export const sourceS3Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['bucket'],
  properties: {
    bucket: { type: 'string', minLength: 1, description: 'Bucket name.' },
    prefix: {
      type: 'string',
      default: '',
      description: 'Key prefix the mount maps to (e.g. "boot/"): /<mount>/x is the object <prefix>x.',
    },
    mount: { type: 'string', default: '/', description: 'Prefix in the virtual tree under which the bucket appears.' },
    region: {
      type: 'string',
      minLength: 1,
      description: 'Signing region. Default: AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1.',
    },
    endpoint: {
      type: 'string',
      pattern: '^https?://',
      description: 'Endpoint of an S3-compatible store (MinIO, Ceph RGW, Garage...). Default: AWS S3 for the region.',
    },
    forcePathStyle: {
      type: 'boolean',
      description:
        'Path-style URLs (endpoint/bucket/key). Default: true when endpoint is set, else false (bucket.host/key).',
    },
    accessKeyId: {
      type: 'string',
      minLength: 1,
      description: 'Access key; with secretAccessKey, takes precedence over the environment and profiles.',
    },
    secretAccessKey: {
      type: 'string',
      minLength: 1,
      description: 'Secret key (prefer the environment or a profile over putting it in the config).',
    },
    sessionToken: { type: 'string', minLength: 1, description: 'Session token for temporary keys.' },
    profile: {
      type: 'string',
      minLength: 1,
      description:
        'Profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ' +
        '~/.aws/credentials). When set, AWS_ACCESS_KEY_ID is not used. Default profile: ' +
        'AWS_PROFILE, then "default".',
    },
    credentials: {
      type: 'string',
      enum: ['chain', 'instance'],
      default: 'chain',
      description:
        '"chain": options, environment, then the profile file. "instance": the same, then the ' +
        'EC2 instance role (IMDSv2 at 169.254.169.254, or AWS_EC2_METADATA_SERVICE_ENDPOINT). No ' +
        'credentials at all means unsigned requests (public buckets).',
    },
    cache: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'maxBytes'],
      description:
        'Optional on-disk cache of whole objects, keyed by ETag, least-recently-used eviction by total size. ' +
        'Concurrent first requests for an object share one fetch; once cached, an object is served from its file ' +
        'like a disk file (sendfile).',
      properties: {
        dir: {
          type: 'string',
          minLength: 1,
          description: "Cache folder (relative: to the config file's folder, or the cwd). pxekit owns its content.",
        },
        maxBytes: {
          type: 'integer',
          minimum: 1,
          description: "Upper bound of the cache's total size; objects larger than this are never cached.",
        },
      },
    },
    timeoutMs: {
      type: 'integer',
      minimum: 100,
      default: 5000,
      description:
        'Deadline for the answer (status and headers) of one S3 request, and for a body that stops delivering; ' +
        'a body still flowing is never cut. The lookup (HEAD) is also kept under the files.resolve hook timeout.',
    },
    name: {
      type: 'string',
      minLength: 1,
      description: 'Plugin instance name (default "source-s3"), to mount several buckets or prefixes.',
    },
  },
} as const;
