/**
 * How pxekit finds the modules a config names (plugin packages, plugin files, `.js`/`.ts` configs) and
 * how those modules find pxekit.
 *
 * A plugin package lists `pxekit` as a peer dependency and imports `pxekit`. Node resolves that from the
 * plugin's real path, which fails, or finds another copy, when the plugin is symlinked (`npm link`,
 * workspaces, `file:` dependencies), installed globally apart from the CLI, or is a file in a folder
 * without node_modules (`/etc/pxekit/my-plugin.mjs`). So, once pxekit loads such a module, a resolve hook
 * (module.register) maps `pxekit` and `pxekit/*` imported from outside the running pxekit package to the
 * running pxekit itself (through its own `exports`, with the importer's conditions): one pxekit in the
 * process, the one whose hooks the plugin taps, as a peer dependency means.
 *
 * The same hook resolves `pxekit-resolve:<name>?from=<folder URL>`: package `name` exactly as Node's ESM
 * resolver would from that folder (exports, conditions, symlinks), which `createRequire().resolve` cannot
 * do for ESM-only packages.
 */
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../package-root.js';

const ROOT_URL = pathToFileURL(`${PACKAGE_ROOT}/`).href;

// Plain JavaScript (a data: URL), so the hook loads the same from the sources (tsx) and from dist/.
const HOOK = `
let root;
export function initialize(data) { root = data.root; }
const isPxekit = (s) => s === 'pxekit' || s.startsWith('pxekit/');
const insideRoot = (url) => typeof url === 'string' && url.startsWith(root) && !url.slice(root.length).includes('node_modules/');
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('pxekit-resolve:')) {
    const q = new URL(specifier);
    const name = q.pathname;
    const from = q.searchParams.get('from');
    return next(name, { ...context, parentURL: new URL('package.json', from).href });
  }
  if (isPxekit(specifier) && !insideRoot(context.parentURL)) {
    return next(specifier, { ...context, parentURL: root + 'package.json' });
  }
  return next(specifier, context);
}
`;

let registered = false;

/** Registers the resolve hook once per process (Node >= 20.6: module.register). */
export function useRunningPxekit(): void {
  if (registered) return;
  registered = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { root: ROOT_URL } });
}

/**
 * The URL of package `name` (or `name/sub/path`) as Node's ESM resolver finds it from `baseDir`, or
 * undefined when no such package is installed there. Other failures (a package whose `exports` hide
 * the path, a broken package.json) throw with Node's message.
 */
export function resolvePackageFrom(name: string, baseDir: string): string | undefined {
  useRunningPxekit();
  const from = pathToFileURL(`${baseDir}/`).href;
  const spec = `pxekit-resolve:${name}?from=${encodeURIComponent(from)}`;
  try {
    return import.meta.resolve(spec);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && missingPackage(err) === packageName(name)) return undefined;
    throw err;
  }
}

/** `@scope/pkg` or `pkg` of a specifier with an optional sub-path. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The package or file a module-not-found error names (`Cannot find package 'x' imported from …`). */
export function missingPackage(err: unknown): string | undefined {
  const m = /Cannot find (?:package|module) '([^']+)'/.exec(err instanceof Error ? err.message : '');
  return m?.[1];
}

/** The importer a module-not-found error names (ESM: `… imported from /path/file.js`; CJS and jiti: its require stack). */
export function importerOf(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : '';
  return (/ imported from (.+)$/m.exec(message) ?? /Require stack:\n- (.+)$/m.exec(message))?.[1];
}
