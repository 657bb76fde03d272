import type { Logger } from 'pino';
import type { PxeConfigInput } from './config/types.js';
import { validateConfig } from './config/validate.js';
import type { PluginDefinition } from './plugin.js';
import { PxeServer } from './server.js';

/** Creates a server from a config object whose plugins are instances (see loadConfig for files). */
export function createServer(input: PxeConfigInput & { logger?: Logger } = {}): PxeServer {
  const { logger, ...rest } = input;
  const plugins = (rest.plugins ?? []) as PluginDefinition[];
  const config = validateConfig({ ...rest, plugins: [] });
  config.plugins = plugins;
  return new PxeServer(config, logger ? { logger } : {});
}
