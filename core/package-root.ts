import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The pxekit package folder (the one with pxekit's package.json). Code runs from the sources (`core/…`)
 * in this repository's tests and from `dist/core/…` when installed, so paths to package files are found
 * by walking up to the package.json named "pxekit" rather than by a fixed number of `../`.
 */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from, i = 0; i < 8; i++, dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'pxekit')
      return dir;
  }
  throw new Error(`pxekit: cannot find pxekit's package.json above ${from}`);
}

let version: string | undefined;
/** pxekit's own version, from its package.json (read once). */
export function pxekitVersion(): string {
  version ??= (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
