import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createJiti } from 'jiti';
import { PACKAGE_ROOT } from '../package-root.js';
import { useRunningPxekit } from './module-resolution.js';

let jiti: ReturnType<typeof createJiti> | undefined;
let freshJiti: ReturnType<typeof createJiti> | undefined;
/** Makes each fresh import's URL unique: ESM caches modules by URL for the life of the process. */
let freshCount = 0;

/**
 * Imports a JS or TS module by absolute path (config files, plugins given by path). A plain import()
 * first: it loads `.js`/`.mjs`, and `.ts` too when the process runs under a TypeScript loader (tsx in
 * this repository's tests), sharing module instances with the server. Otherwise (the installed
 * package runs compiled JavaScript; Node 20 has no type stripping) `.ts` files fall back to jiti, which
 * compiles them without the TypeScript compiler; their `import 'pxekit'` still reaches the running
 * pxekit's compiled modules. `fresh`: read the file again even if it was imported before (a config on
 * reload); the modules it imports are not reloaded.
 */
export async function importModule(absPath: string, opts: { fresh?: boolean } = {}): Promise<unknown> {
  // pxekit's own files (built-in plugins) find pxekit by self-reference: no hook needed for them.
  const rel = relative(PACKAGE_ROOT, absPath);
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('node_modules')) useRunningPxekit();
  try {
    const url = pathToFileURL(absPath);
    // A config file read again on reload must be its new text, not the module cached at start.
    if (opts.fresh) url.search = `?pxekit-load=${++freshCount}`;
    return await import(url.href);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!/\.(c|m)?ts$/.test(absPath) || code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    if (opts.fresh) {
      freshJiti ??= createJiti(import.meta.url, {
        interopDefault: false,
        alias: runningPxekitAliases(),
        moduleCache: false,
        fsCache: false,
      });
      return freshJiti.import(absPath);
    }
    jiti ??= createJiti(import.meta.url, { interopDefault: false, alias: runningPxekitAliases() });
    return jiti.import(absPath);
  }
}

/**
 * jiti resolves imports itself (not through Node's hooks): point `pxekit` and `pxekit/…` at the running
 * pxekit's compiled entries (the `import` targets of its package.json `exports`), as
 * module-resolution.ts does for plain imports. A wildcard entry (`./plugins/*`) maps its folder.
 */
function runningPxekitAliases(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { import?: string }>;
  };
  const aliases: Record<string, string> = {};
  for (const [key, target] of Object.entries(manifest.exports)) {
    const file = typeof target === 'string' ? target : target.import;
    if (!file) continue;
    const name = key === '.' ? 'pxekit' : `pxekit/${key.slice(2)}`;
    if (name.endsWith('/*')) aliases[name.slice(0, -2)] = join(PACKAGE_ROOT, file.slice(0, file.indexOf('/*')));
    else aliases[name] = join(PACKAGE_ROOT, file);
  }
  return aliases;
}
