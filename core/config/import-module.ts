import { pathToFileURL } from 'node:url';
import { createJiti } from 'jiti';

let jiti: ReturnType<typeof createJiti> | undefined;

/**
 * Imports a JS or TS module by absolute path. pxekit runs under tsx (bin/pxekit.js registers it), so a
 * plain import() loads `.ts` and shares module instances with the server (one `definePlugin`, one
 * `PxeError`). When embedded in a program without tsx, `.ts` files fall back to jiti, which compiles
 * them without the TypeScript compiler (Node 20 has no type stripping).
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
