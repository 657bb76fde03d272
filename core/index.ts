/**
 * pxekit's public API: createServer for programs, definePlugin for plugin authors, and the types
 * of every hook. Protocol codecs are exported for tools and tests.
 */
export { createServer } from './create-server.js';
export { hookTags } from './errors.js';
export { PxeServer, type ServerOptions } from './server.js';
export { createServerFromConfig, type FromConfigOptions } from './from-config.js';
export { definePlugin, isPlugin, type PluginDefinition, type PluginContext, type PluginSpec } from './plugin.js';
export { ProvidedRegistry, type Provides, type ProvideName } from './provides.js';
export type { PluginCommand, CommandContext, CommandIo, ConfiguredPlugin } from './plugin-command.js';
export type { PluginCheck, CheckContext, CheckProblem } from './plugin-check.js';
export { validateProject, type ValidateReport, type ValidateIssue, type ValidateOptions } from './validate/run.js';
export { runPluginCommand } from './plugin-commands.js';
export { loadConfig, CONFIG_SEARCH_PLACES, type LoadedConfig } from './config/load.js';
export { validateConfig } from './config/validate.js';
export { resolvePlugins, builtinPluginNames } from './config/resolve-plugins.js';
export { ConfigError, formatIssue, type ConfigIssue } from './config/issues.js';
export { coreConfigSchema } from './config/schema.js';
export type * from './config/types.js';
export { PxeError, HookError, UnavailableError, unavailableCause, ERROR_CODES, type ErrorCode } from './errors.js';
export { pxekitVersion } from './package-root.js';
export { createLogger, type Logger } from './log.js';
export { STAGE_FIRST, STAGE_EARLY, STAGE_DEFAULT, STAGE_LATE, STAGE_LAST, type TapTiming } from './hooks/runner.js';
export type * from './hooks/server.js';
export type * from './hooks/dhcp.js';
export type * from './hooks/tftp.js';
export type * from './hooks/http.js';
export type * from './hooks/files.js';
export type * from './files/types.js';
export { normalizeVirtualPath, stripMount } from './files/path.js';
export type * from './session/types.js';
export { SessionStore } from './session/store.js';

/** Identity helper so a `pxekit.config.ts` gets type checking and completion. */
export function defineConfig<T extends import('./config/types.js').PxeConfigInput>(config: T): T {
  return config;
}

// For plugin authors: helpers the built-in plugins use.
export { normalizeMac, parseMacPattern, compileMacPatterns, macDashes, macHex, type MacPattern } from './boot/mac.js';
export { memoryFile } from './boot/memory-file.js';
export { TemplateRenderer } from './boot/render.js';
export { templateVars } from './boot/vars.js';
export { serverBaseUrl, joinUrl } from './boot/url.js';
export { ARCH_KEYS, lookupByArch, type ArchKey } from './boot/arch-keys.js';
export { watchFile, type FileWatcher } from './boot/watch-file.js';
export { normalizeMount, safeSegments, underMount, reportDenied } from './files/sources/mount.js';
export { boundsFor, SliceStream } from './files/sources/range.js';
export { LruMap } from './files/sources/lru.js';
export { DiskCache } from './files/sources/disk-cache.js';
export { serveFile } from './http/serve-file.js';
export type { HttpInjectRequest, HttpInjectResponse } from './http/inject.js';
export type { LeaseStore, Lease, LeaseState, LeaseWrite } from './dhcp/leases/store.js';
export { canTake, isExpired } from './dhcp/leases/store.js';
export { MemoryLeaseStore } from './dhcp/leases/memory-store.js';
// Protocol codecs, for tools and tests.
export { decode as decodeDhcp, encode as encodeDhcp, encodingLength as dhcpEncodingLength } from './dhcp/codec.js';
export { classify, type ClientClass } from './dhcp/pxe.js';
export type { DhcpPacket } from './dhcp/packet.js';
export {
  decode as decodeDhcp6,
  encode as encodeDhcp6,
  encodingLength as dhcp6EncodingLength,
  Dhcp6DecodeError,
} from './dhcp6/codec.js';
export type { Dhcp6Packet, Dhcp6Message, Dhcp6RelayMessage, Dhcp6Option } from './dhcp6/codec.js';
export type { DhcpInjectOptions, DhcpInjectReply } from './services/dhcp-service.js';
// Audit chain and `explain`, for tools built on pxekit.
export { verifyAuditFiles, type VerifyResult } from './kit/audit/verify.js';
export { GENESIS, parseLine, sealLine } from './kit/audit/chain.js';
export { buildExplainServer, closeExplainServer, type ExplainServer } from './explain/build-server.js';
export { explainPacket, type ExplainReport, type ExplainInput } from './explain/engine.js';
export { formatReport } from './explain/format.js';
export { syntheticDiscover, syntheticDiscoverBuffer } from './explain/discover.js';
export { readDhcpFromCapture } from './explain/pcap.js';
// Redis options shared by lease-redis, session-redis and dhcp-cluster. RedisLink itself is not
// re-exported here so that programs without Redis never load ioredis.
export {
  REDIS_DEFAULTS,
  redisOptionsSchema,
  resolveRedisOptions,
  type RedisOptions,
  type WithRedisInput,
} from './kit/redis/options.js';
export type { RedisLink, RedisLinkOptions, RedisUnavailableError } from './kit/redis/link.js';
export type { TftpInjectRequest, TftpInjectResult } from './tftp/inject.js';
export { sendFromReader, sendFromStream, type BodyResult } from './http/send-body.js';
export type { FileReader } from './files/types.js';
