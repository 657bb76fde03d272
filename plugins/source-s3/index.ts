/**
 * source-s3: serves objects of an S3 (or S3-compatible) bucket under a mount prefix. aws4fetch is loaded
 * only when this plugin starts, so servers that do not mount S3 never load it.
 */
import { Readable } from 'node:stream';
import { type ByteRange, definePlugin, type FileHandle, PxeError, type ResolveRequest } from 'pxekit';
import {
  boundsFor,
  cachedBody,
  DiskCache,
  eventProtocol,
  LruMap,
  normalizeMount,
  mountedPath,
  fromBase,
} from 'pxekit/kit';
import { CredentialProvider } from './credentials.js';
import { sourceS3Schema, type SourceS3Options } from './options.js';
import { checkSourceS3 } from './check.js';
import { S3Store, type S3Head } from './store.js';

export type { SourceS3Options } from './options.js';

/** HEAD answers (and misses) are trusted this long, so one boot's many requests cost one HEAD per file. */
const HEAD_TTL_MS = 5_000;
const HEAD_CACHE_MAX = 2_048;
/** Leave the files.resolve hook timeout this much room, so a slow HEAD ends in our clean error, not a hook timeout. */
const HOOK_MARGIN_MS = 250;

export default function sourceS3(options: Partial<SourceS3Options> = {}) {
  const pluginName = options.name ?? 'source-s3';
  return definePlugin<SourceS3Options>({
    name: pluginName,
    options,
    optionsSchema: sourceS3Schema,
    check: (ctx) =>
      checkSourceS3(ctx, async () => {
        const made = await makeStore(ctx.options, regionOf(ctx.options));
        return { store: made.store, anonymous: !made.credentials };
      }),
    apply(server, { options: o, log, name, baseDir: base }) {
      const mount = normalizeMount(o.mount);
      const bare = o.prefix.replace(/^\/+/, '');
      const prefix = bare === '' || bare.endsWith('/') ? bare : `${bare}/`;
      const region = regionOf(o);
      const heads = new LruMap<string, S3Head | null>(HEAD_CACHE_MAX, HEAD_TTL_MS);
      const headTimeout = Math.max(
        100,
        Math.min(o.timeoutMs, server.runner.timeoutFor('files.resolve') - HOOK_MARGIN_MS),
      );
      let store: S3Store | undefined;
      let cache: DiskCache | undefined;

      const fail = (req: ResolveRequest, err: unknown, op: string) => {
        const code = err instanceof PxeError ? err.code : 'PXE_ERR_FILE_SOURCE';
        const reason = err instanceof Error ? err.message : String(err);
        log.error({ event: 'files.error', code, source: name, path: req.path, op, reason }, 'S3 source failed');
        server.emit({
          type: 'files.error',
          protocol: eventProtocol(req),
          outcome: 'error',
          plugin: name,
          ...(req.clientAddress ? { ip: req.clientAddress } : {}),
          data: { path: req.path, op, code, reason, bucket: o.bucket },
        });
      };

      server.hooks.ready.tapPromise(name, async () => {
        const made = await makeStore(o, region);
        const c = made.credentials;
        if (!c)
          log.warn(
            { event: 's3.anonymous', bucket: o.bucket },
            'no S3 credentials found; sending unsigned requests (public buckets only)',
          );
        store = made.store;
        if (o.cache) {
          cache = new DiskCache(fromBase(base, o.cache.dir), o.cache.maxBytes, log);
          await cache.init();
        }
        log.info(
          {
            event: 'files.mount',
            source: name,
            mount,
            bucket: o.bucket,
            prefix,
            endpoint: o.endpoint,
            credentials: c?.source ?? 'anonymous',
            cache: cache?.dir,
          },
          'S3 source mounted',
        );
      });

      server.files.hooks.resolve.tapPromise(name, async (req): Promise<FileHandle | undefined> => {
        if (!store) return undefined;
        const rel = mountedPath(server, log, name, req, mount)?.rel;
        if (rel === undefined) return undefined;
        let head = heads.get(rel);
        if (head === undefined) {
          try {
            head = (await store.head(rel, headTimeout)) ?? null;
          } catch (err) {
            // Unreachable or refusing store: report it and let the other sources answer.
            fail(req, err, 'head');
            return undefined;
          }
          heads.set(rel, head);
        }
        if (head === null) return undefined;
        const h = head;
        const s = store;
        /** The object (or one range of it) from the store, pinned to the ETag the HEAD announced. */
        const fetch = async (range?: ByteRange): Promise<Readable> => {
          try {
            return await s.get(rel, range ?? { start: 0, end: h.size - 1 }, h.etag);
          } catch (err) {
            heads.delete(rel);
            fail(req, err, 'get');
            throw err;
          }
        };
        const body: Pick<FileHandle, 'open' | 'openReader'> = cache
          ? cachedBody({
              cache,
              key: DiskCache.key(o.bucket, prefix + rel, h.etag),
              size: h.size,
              fetch,
              idleMs: o.timeoutMs,
            })
          : {
              async open(range) {
                const b = boundsFor(range, h.size);
                return b ? fetch(b) : Readable.from([]);
              },
            };
        return {
          path: req.path,
          size: h.size,
          ...(h.mtime ? { mtime: h.mtime } : {}),
          etag: h.etag,
          source: name,
          ...body,
        };
      });

      server.hooks.close.tapPromise(name, async () => {
        heads.clear();
        store = undefined;
        await cache?.close();
      });
    },
  });
}

function regionOf(o: SourceS3Options): string {
  return o.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

/** The store client and the credentials found (undefined: anonymous). aws4fetch is loaded here, lazily. */
async function makeStore(o: SourceS3Options, region: string) {
  const { AwsClient } = await import('aws4fetch');
  const creds = new CredentialProvider({
    ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}),
    ...(o.secretAccessKey ? { secretAccessKey: o.secretAccessKey } : {}),
    ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    credentials: o.credentials,
    timeoutMs: o.timeoutMs,
  });
  // Credentials that cannot be found at all are a config problem: fail start-up, not every request.
  const credentials = await creds.get();
  const bare = o.prefix.replace(/^\/+/, '');
  const prefix = bare === '' || bare.endsWith('/') ? bare : `${bare}/`;
  const store = new S3Store(
    {
      bucket: o.bucket,
      prefix,
      region,
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      timeoutMs: o.timeoutMs,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    },
    creds,
    AwsClient,
  );
  return { store, credentials };
}
