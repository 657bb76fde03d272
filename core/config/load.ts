import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { importModule } from './import-module.js';
import { PxeError } from '../errors.js';
import type { PxeConfig } from './types.js';
import { validateConfig } from './validate.js';

// Every JS/TS config through importModule: cosmiconfig 9's own .ts loader needs the TypeScript compiler
// at run time, and a config's `import 'pxekit'` must reach the running pxekit (see import-module.ts).
const loadModule: Loader = async (filepath) => {
  const mod = (await importModule(filepath, { fresh: true })) as { default?: unknown };
  return mod.default ?? mod;
};

export const CONFIG_SEARCH_PLACES = [
  'package.json',
  'pxekit.config.json',
  'pxekit.config.yaml',
  'pxekit.config.yml',
  'pxekit.config.js',
  'pxekit.config.mjs',
  'pxekit.config.cjs',
  'pxekit.config.ts',
  'pxekit.config.mts',
  '.pxekitrc',
  '.pxekitrc.json',
  '.pxekitrc.yaml',
  '.pxekitrc.yml',
];

const explorer = cosmiconfig('pxekit', {
  searchPlaces: CONFIG_SEARCH_PLACES,
  loaders: {
    '.js': loadModule,
    '.mjs': loadModule,
    '.cjs': loadModule,
    '.ts': loadModule,
    '.mts': loadModule,
    '.cts': loadModule,
  },
  searchStrategy: 'none',
  cache: false,
});

export interface LoadedConfig {
  config: PxeConfig;
  /** Absolute path of the file read. */
  filepath: string;
  /** The path as shown in messages (relative to the cwd when shorter). */
  displayPath: string;
}

/**
 * Loads and validates a config: from `path` when given, else the first of CONFIG_SEARCH_PLACES in `cwd`
 * (and `package.json#pxekit`). Plugin refs stay unresolved here (see resolvePlugins).
 */
export async function loadConfig(path?: string, cwd = process.cwd()): Promise<LoadedConfig> {
  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  if (path) {
    const abs = resolve(cwd, path);
    if (!existsSync(abs)) {
      throw new PxeError('PXE_ERR_CONFIG_NOT_FOUND', `config file ${path} does not exist`, {
        fix: 'check the path given with --config',
        details: { path: abs },
      });
    }
    result = await wrapParse(abs, () => explorer.load(abs));
  } else {
    result = await wrapParse(cwd, () => explorer.search(cwd));
    if (!result) {
      throw new PxeError('PXE_ERR_CONFIG_NOT_FOUND', `no pxekit config found in ${cwd}`, {
        fix: `create pxekit.config.yaml (see examples/quickstart) or pass --config PATH; searched: ${CONFIG_SEARCH_PLACES.join(', ')}`,
      });
    }
  }
  const filepath = result!.filepath;
  const rel = relative(cwd, filepath);
  const displayPath = rel.length < filepath.length && !rel.startsWith('..') ? rel : filepath;
  const raw = result!.isEmpty ? {} : result!.config;
  const config = validateConfig(raw, displayPath);
  return { config, filepath, displayPath };
}

async function wrapParse<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PxeError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new PxeError('PXE_ERR_CONFIG_PARSE', `cannot read config ${where}: ${msg}`, {
      cause: err,
      fix: 'fix the syntax error shown above (YAML indentation, JSON commas, or an exception thrown by a JS/TS config)',
    });
  }
}

/** The folder relative plugin paths are resolved from. */
export function configDir(filepath: string): string {
  return dirname(filepath);
}
