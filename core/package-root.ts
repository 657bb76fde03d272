import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The pxekit package folder (the one with package.json). Code runs from the sources (`core/…`) in
 * this repository's tests and from `dist/core/…` when installed, so paths to package files are
 * found by walking up rather than by a fixed number of `../`.
 */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from, i = 0; i < 8; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'core'))) return dir;
  }
  throw new Error(`pxekit: cannot find the package folder above ${from}`);
}

let version: string | undefined;
/** pxekit's own version, from its package.json (read once). */
export function pxekitVersion(): string {
  version ??= (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
