import { isAbsolute, resolve } from 'node:path';

/**
 * A path from a config or plugin option, as the process opens it: an absolute path as it is, a relative one
 * against `baseDir` (the config file's folder; `ctx.baseDir` in a plugin). `undefined` stays undefined.
 */
export function fromBase(baseDir: string, path: string): string;
export function fromBase(baseDir: string, path: string | undefined): string | undefined;
export function fromBase(baseDir: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
