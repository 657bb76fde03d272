import type { Logger } from 'pino';
import type { PxeConfigInput } from './config/types.js';
import { validateConfig } from './config/validate.js';
import type { PluginDefinition } from './plugin.js';
import { PxeServer } from './server.js';

/**
 * Creates a server from a config object whose plugins are instances (see loadConfig for files).
 * `replaces`: a running server whose listeners, leases and sessions this one takes over on `start()` (a
 * config reload, docs/deployment.md#reloading-the-config).
 */
export function createServer(input: PxeConfigInput & { logger?: Logger; replaces?: PxeServer } = {}): PxeServer {
  const { logger, replaces, ...rest } = input;
  const plugins = (rest.plugins ?? []) as PluginDefinition[];
  const config = validateConfig({ ...rest, plugins: [] });
  config.plugins = plugins;
  return new PxeServer(config, { ...(logger ? { logger } : {}), ...(replaces ? { replaces } : {}) });
}
