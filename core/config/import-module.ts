import { pathToFileURL } from 'node:url';
import { createJiti } from 'jiti';

let jiti: ReturnType<typeof createJiti> | undefined;

/**
 * Imports a JS or TS module by absolute path (config files, plugins given by path). A plain import()
 * first: it loads `.js`/`.mjs`, and `.ts` too when the process runs under a TypeScript loader (tsx in
 * this repository's tests), sharing module instances with the server. Otherwise (the installed
 * package runs compiled JavaScript; Node 20 has no type stripping) `.ts` files fall back to jiti, which
 * compiles them without the TypeScript compiler; their `import 'pxekit'` still reaches the running
 * pxekit's compiled modules.
 */
export async function importModule(absPath: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(absPath).href);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!/\.(c|m)?ts$/.test(absPath) || code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    jiti ??= createJiti(import.meta.url, { interopDefault: false });
    return jiti.import(absPath);
  }
}
