import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { globSync } from 'glob';
import { PACKAGE_ROOT } from '../package-root.js';
import { importModule } from './import-module.js';
import { importerOf, missingPackage, resolvePackageFrom } from './module-resolution.js';
import { isPlugin, type PluginDefinition, type PluginOrigin } from '../plugin.js';
import { ConfigError, type ConfigIssue } from './issues.js';
import type { PluginRef } from './types.js';

// Beside this module: plugins/ in the sources, dist/plugins/ when compiled (index.ts or index.js).
const BUILTIN_DIR = fileURLToPath(new URL('../../plugins/', import.meta.url));
const INDEX = import.meta.url.endsWith('.ts') ? 'index.ts' : 'index.js';

/** Names of the plugins shipped in `plugins/`: the folders with an index module. */
export function builtinPluginNames(): string[] {
  return globSync(`*/${INDEX}`, { cwd: BUILTIN_DIR, posix: true })
    .map((f) => f.slice(0, f.indexOf('/')))
    .sort();
}

/**
 * Turns config refs into plugin instances: a built-in name (`source-disk`), a path (`./my-plugin.mjs`,
 * relative to the config file), or an npm package. A module exports (default, or `plugin`) either a
 * plugin or a factory `(options) => plugin`. Every unresolvable entry is reported at once.
 */
export async function resolvePlugins(
  refs: ReadonlyArray<PluginRef | PluginDefinition>,
  opts: { baseDir: string; file?: string },
): Promise<{ plugins: PluginDefinition[]; origins: PluginOrigin[] }> {
  const { plugins, origins, issues } = await resolvePluginsCollect(refs, opts);
  if (issues.length)
    throw new ConfigError(
      issues,
      issues.some((i) => i.message.startsWith('cannot find')) ? 'PXE_ERR_PLUGIN_NOT_FOUND' : 'PXE_ERR_PLUGIN_INVALID',
    );
  return { plugins, origins };
}

/** As resolvePlugins, but returns what resolved together with every problem instead of throwing (`pxekit validate`). */
export async function resolvePluginsCollect(
  refs: ReadonlyArray<PluginRef | PluginDefinition>,
  opts: { baseDir: string; file?: string },
): Promise<{ plugins: PluginDefinition[]; origins: PluginOrigin[]; issues: ConfigIssue[] }> {
  const plugins: PluginDefinition[] = [];
  const origins: PluginOrigin[] = [];
  const issues: ConfigIssue[] = [];
  const fileField = opts.file ? { file: opts.file } : {};
  for (const [index, ref] of refs.entries()) {
    if (isPlugin(ref)) {
      plugins.push(ref);
      origins.push({ ...fileField, index });
      continue;
    }
    // Entries of the wrong shape are the core schema's to report (validate runs both stages).
    if (typeof ref !== 'string' && !(Array.isArray(ref) && typeof ref[0] === 'string')) continue;
    const [fullName, options] = typeof ref === 'string' ? [ref, undefined] : [ref[0], ref[1]];
    // `source-disk#ipxe`: a second instance of a plugin, named apart so names stay unique.
    const hash = fullName.lastIndexOf('#');
    const name = hash > 0 ? fullName.slice(0, hash) : fullName;
    const instance = hash > 0 ? fullName.slice(hash + 1) : undefined;
    try {
      const mod = await importPlugin(name, opts.baseDir);
      if (mod === undefined) {
        const builtins = builtinPluginNames();
        issues.push({
          ...fileField,
          path: `plugins[${index}]`,
          message: `cannot find plugin "${name}"`,
          found: JSON.stringify(name),
          expected: 'a built-in plugin name, an installed package, or a path starting with ./',
          fix: isPath(name)
            ? `no file ${resolve(opts.baseDir, name)}: fix the path (relative paths start at the config file's folder)`
            : `cannot resolve package "${name}" from ${opts.baseDir} (nor beside pxekit in ${PACKAGE_ROOT}): ` +
              `npm install it in that folder (or npm link it there), use one of the built-in plugins ` +
              `(${builtins.join(', ')}), or give a path starting with ./`,
        });
        continue;
      }
      const plugin = instantiate(mod, options);
      if (!plugin) {
        issues.push({
          ...fileField,
          path: `plugins[${index}]`,
          message: `module "${name}" does not export a plugin`,
          fix: 'export default definePlugin({...}) or a function (options) => definePlugin({...})',
        });
        continue;
      }
      plugins.push(instance ? renamed(plugin, `${plugin.name}#${instance}`) : plugin);
      origins.push({ ...fileField, index });
    } catch (err) {
      issues.push({
        ...fileField,
        path: `plugins[${index}]`,
        message: `plugin "${name}" failed to load: ${err instanceof Error ? err.message : String(err)}`,
        fix: loadFailureFix(err),
      });
    }
  }
  return { plugins, origins, issues };
}

const isPath = (name: string) => name.startsWith('.') || isAbsolute(name);

/**
 * A path (relative to the config file), a built-in, or a package resolved as Node's ESM resolver does
 * from the config file's folder, else from beside pxekit (plugins installed globally next to a global
 * pxekit). The plugin's own `import 'pxekit'` reaches the running pxekit (module-resolution.ts).
 */
async function importPlugin(name: string, baseDir: string): Promise<unknown> {
  if (isPath(name)) {
    const abs = resolve(baseDir, name);
    if (!existsSync(abs)) return undefined;
    return importModule(abs);
  }
  if (/^[a-z0-9][a-z0-9-]*$/.test(name) && existsSync(join(BUILTIN_DIR, name, INDEX))) {
    return importModule(join(BUILTIN_DIR, name, INDEX));
  }
  const url = resolvePackageFrom(name, baseDir) ?? resolvePackageFrom(name, PACKAGE_ROOT);
  if (url === undefined) return undefined;
  return url.startsWith('file:') ? importModule(fileURLToPath(url)) : import(url);
}

/** The fix for a plugin module that was found but did not load: names what is missing, and where. */
function loadFailureFix(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    const missing = missingPackage(err) ?? 'a module';
    const from = importerOf(err) ?? 'the plugin';
    return (
      `cannot resolve "${missing}" from ${from}: install it where that file can find it (add it to the ` +
      `plugin package's dependencies and run npm install), or fix the import`
    );
  }
  if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || code === 'ERR_PACKAGE_IMPORT_NOT_DEFINED')
    return 'the import names a path the package does not export: import one of its public entries (see its package.json "exports")';
  if (err instanceof SyntaxError)
    return 'fix the syntax error in the plugin module (plugins are ES modules; a .ts plugin must be valid TypeScript)';
  return "the plugin module threw while loading: fix it (see the message), or report it to the plugin's author";
}

function renamed(p: PluginDefinition, name: string): PluginDefinition {
  return Object.assign(Object.create(Object.getPrototypeOf(p) as object | null) as object, p, {
    name,
  }) as PluginDefinition;
}

function instantiate(mod: unknown, options: Record<string, unknown> | undefined): PluginDefinition | undefined {
  const m = mod as Record<string, unknown> | undefined;
  for (const candidate of [m?.['default'], m?.['plugin'], mod]) {
    if (isPlugin(candidate)) {
      return options === undefined
        ? candidate
        : (Object.assign(Object.create(Object.getPrototypeOf(candidate) as object | null) as object, candidate, {
            options,
          }) as PluginDefinition);
    }
    if (typeof candidate === 'function') {
      const made: unknown = (candidate as (o: unknown) => unknown)(options ?? {});
      if (isPlugin(made)) return made;
    }
  }
  return undefined;
}
