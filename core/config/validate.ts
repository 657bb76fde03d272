import { compileSchema } from './ajv.js';
import { ajvIssues, ConfigError } from './issues.js';
import { coreConfigSchema } from './schema.js';
import type { PxeConfig, PxeConfigInput } from './types.js';

/**
 * Validates a config object against the core schema and returns a copy with defaults applied.
 * Plugin entries are passed through untouched (instances hold functions; refs are resolved later).
 * Throws a ConfigError listing every problem.
 */
export function validateConfig(input: PxeConfigInput | unknown, file?: string): PxeConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError([
      {
        ...(file ? { file } : {}),
        path: '(top level)',
        message: 'the config must be an object',
        found: Array.isArray(input) ? 'an array' : typeof input,
        expected: 'an object with keys dhcp, tftp, http, log, plugins',
        fix: 'export or write an object (see examples/quickstart)',
      },
    ]);
  }
  const src = input as Record<string, unknown>;
  // Copy every section so Ajv's defaults never write into the caller's object.
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    copy[k] =
      k === 'plugins' ? (Array.isArray(v) ? [...v] : v) : v !== null && typeof v === 'object' ? structuredClone(v) : v;
  }
  const validate = compileSchema(coreConfigSchema);
  if (!validate(copy)) throw new ConfigError(ajvIssues(validate.errors, copy, file ? { file } : {}));
  return copy as unknown as PxeConfig;
}
