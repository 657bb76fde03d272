/**
 * pxekit's public API: createServer for programs, definePlugin for plugin authors, and the types
 * of every hook. Protocol codecs are exported for tools and tests.
 */
export { createServer, PxeServer, hookTags, type ServerOptions } from './server.js';
export { createServerFromConfig, type FromConfigOptions } from './from-config.js';
export { definePlugin, isPlugin, type PluginDefinition, type PluginContext, type PluginSpec } from './plugin.js';
export { loadConfig, CONFIG_SEARCH_PLACES, type LoadedConfig } from './config/load.js';
export { validateConfig } from './config/validate.js';
export { resolvePlugins, builtinPluginNames } from './config/resolve-plugins.js';
export { ConfigError, formatIssue, type ConfigIssue } from './config/issues.js';
export { coreConfigSchema } from './config/schema.js';
export type * from './config/types.js';
export { PxeError, HookError, ERROR_CODES, type ErrorCode } from './errors.js';
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
