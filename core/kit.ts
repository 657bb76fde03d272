/**
 * `pxekit/kit`: the helpers a plugin needs besides the plugin contract itself. The contract —
 * `definePlugin`, `PluginContext`, hook and event types, `PxeError` — is in `pxekit`; everything here
 * is what the built-in plugins use to do their job, so a plugin written outside the project can do
 * what a built-in does, importing the same two entries (and `pxekit/testing` in its tests).
 *
 * Grouped by job:
 * - **files**: mount and path safety for a file source, byte ranges, an LRU, a disk cache, cached reads
 * - **boot**: MAC patterns, globs and path patterns, arch keys, boot targets and URLs, templates, file watching
 * - **dhcp**: option access, message types, address pools, the lease-store contract
 * - **redis**: the shared `redis` option block and a connection with up/down episodes (scale-out plugins)
 * - **util**: `fromBase` (an option path against `ctx.baseDir`), `unmapIpv4` (`::ffff:10.0.0.5` → `10.0.0.5`),
 *   `raceTimer` (a promise against a timer)
 * - **audit**: the hash chain of the audit log (`GENESIS`, `sealLine`, `parseLine`, `sha256Hex`)
 *
 * See docs/plugins.md, "Public API", for what follows semver and the list by job.
 */

// Small shared pieces: option paths against the config's folder, IPv4-mapped addresses, bounding a wait.
export { fromBase } from './util/from-base.js';
export { unmapIpv4 } from './util/ipv4-mapped.js';
export { raceTimer } from './util/race-timer.js';

// Files: mount and path safety, ranges, caches.
export {
  normalizeMount,
  safeSegments,
  underMount,
  reportDenied,
  mountedPath,
  type MountedPath,
  eventProtocol,
  type SafeSegments,
} from './files/sources/mount.js';
export { normalizeVirtualPath, stripMount } from './files/path.js';
export { boundsFor, SliceStream } from './files/sources/range.js';
export { LruMap } from './files/sources/lru.js';
export { DiskCache, type CacheEntry, type CacheFill } from './files/sources/disk-cache.js';
export { cachedBody, readerStream, type CachedBodyOptions } from './files/sources/cached-body.js';
export { openFileReader } from './files/file-reader.js';
export { OpenFileCache, type OpenFile, type OpenFileCacheOptions } from './files/open-files.js';

// Boot: MACs, patterns, arch tables, boot targets, URLs, templates, watched files.
export { normalizeMac, parseMacPattern, compileMacPatterns, macDashes, macHex, type MacPattern } from './boot/mac.js';
export { globMatch, globToRegExp } from './boot/glob.js';
export { compilePathPattern, ipHexNames, ipv4Hex, type PathPattern } from './boot/path-pattern.js';
export { ARCH_KEYS, ARCH_KEY_NAMES, lookupByArch, archTableSchema, type ArchKey } from './boot/arch-keys.js';
export { bootTargetFor } from './boot/boot-file.js';
export { isUrl, serverBaseUrl, boundHttpPort, joinUrl, sessionUrlVars, expandVars } from './boot/url.js';
export { TemplateRenderer, logTemplateError, type TemplateSource } from './boot/render.js';
export { templateVars } from './boot/vars.js';
export { memoryFile } from './boot/memory-file.js';
export { sessionForRequest, sessionForPath, requestLocal, blankSession, type PathHit } from './boot/request-session.js';
export { watchFile, type FileWatcher } from './boot/watch-file.js';

// DHCP: options, message types, pools, leases.
export { getOption, setOption, deleteOption, decodeOptionValue, encodeOptionValue } from './dhcp/option-values.js';
export { messageType, requestedIp, serverId, requestsOption } from './dhcp/option-accessors.js';
export {
  DHCPDISCOVER,
  DHCPOFFER,
  DHCPREQUEST,
  DHCPDECLINE,
  DHCPACK,
  DHCPNAK,
  DHCPRELEASE,
  DHCPINFORM,
  messageTypeName,
  createPacket,
} from './dhcp/packet.js';
export { buildPools, poolFor, parseCidr, type Pool, type Subnet } from './dhcp/leases/pool.js';
export { ipToString } from './util/ipv4.js';
export {
  canTake,
  isExpired,
  type LeaseStore,
  type Lease,
  type LeaseState,
  type LeaseWrite,
} from './dhcp/leases/store.js';
export { MemoryLeaseStore } from './dhcp/leases/memory-store.js';

// Redis, for scale-out plugins: the `redis` option block and one connection with outage episodes.
export {
  REDIS_DEFAULTS,
  redisOptionsSchema,
  resolveRedisOptions,
  type RedisOptions,
  type WithRedisInput,
} from './kit/redis/options.js';
export {
  RedisLink,
  RedisUnavailableError,
  sharedRedisLink,
  pluginRedisLink,
  instanceId,
  type RedisLinkOptions,
  type RedisLinkStats,
  type OutageCounts,
  type EmitFn,
} from './kit/redis/link.js';

// Audit: the hash chain.
export { GENESIS, sealLine, parseLine, sha256Hex, type ParsedLine } from './kit/audit/chain.js';
export { verifyAuditFiles, type VerifyResult } from './kit/audit/verify.js';

// Errors: a bind failure as an operator-facing error (side listeners such as metrics and status).
export { listenError } from './errors.js';

// A small HTTP listener of a plugin's own, on a port apart from the boot listener (metrics, status).
export { SideListener, type SideHandler } from './kit/side-listener.js';
