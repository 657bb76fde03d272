import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
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

/** A config file as read, before validation: what `pxekit validate` checks stage by stage. */
export interface RawConfig {
  raw: unknown;
  filepath: string;
  displayPath: string;
}

/**
 * Loads and validates a config: from `path` when given, else the first of CONFIG_SEARCH_PLACES in `cwd`
 * (and `package.json#pxekit`). Plugin refs stay unresolved here (see resolvePlugins).
 */
export async function loadConfig(path?: string, cwd = process.cwd()): Promise<LoadedConfig> {
  const { raw, filepath, displayPath } = await readConfigFile(path, cwd);
  const config = validateConfig(raw, displayPath);
  return { config, filepath, displayPath };
}

/** Finds and parses a config file (not validated). Throws PxeError for a missing, unreadable, empty or broken file. */
export async function readConfigFile(path?: string, cwd = process.cwd()): Promise<RawConfig> {
  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  if (path) {
    const abs = resolve(cwd, path);
    if (!existsSync(abs)) {
      throw new PxeError('PXE_ERR_CONFIG_NOT_FOUND', `config file ${path} does not exist`, {
        fix: 'check the path given with --config',
        details: { path: abs },
      });
    }
    if (statSync(abs).isDirectory()) throw folderGiven(path, abs);
    // null: a YAML file holding only comments (cosmiconfig's answer for "no document").
    result = (await wrapParse(abs, () => explorer.load(abs))) ?? { config: undefined, filepath: abs, isEmpty: true };
  } else {
    result = await wrapParse(cwd, () => explorer.search(cwd));
    // The search skips empty files: one that exists is the config meant, to be reported as empty.
    const present = result
      ? undefined
      : CONFIG_SEARCH_PLACES.find((f) => f !== 'package.json' && existsSync(join(cwd, f)));
    if (present) result = { config: undefined, filepath: join(cwd, present), isEmpty: true };
    if (!result) {
      throw new PxeError('PXE_ERR_CONFIG_NOT_FOUND', `no pxekit config found in ${cwd}`, {
        fix: `create pxekit.config.yaml (see examples/quickstart) or pass --config PATH; searched: ${CONFIG_SEARCH_PLACES.join(', ')}`,
      });
    }
  }
  const filepath = result!.filepath;
  const rel = relative(cwd, filepath);
  const displayPath = rel.length < filepath.length && !rel.startsWith('..') ? rel : filepath;
  if (result!.isEmpty) {
    // An empty file is a mistake (a truncated copy, the wrong file), not "a server with no plugins".
    throw new PxeError('PXE_ERR_CONFIG_INVALID', `config file ${displayPath} is empty`, {
      fix: 'write the config into it (start from examples/quickstart/pxekit.config.yaml), or pass the right file with --config',
      details: { path: filepath },
    });
  }
  return { raw: result!.config, filepath, displayPath };
}

/** `--config` named a folder: say so, and name the config files in it. */
function folderGiven(path: string, abs: string): PxeError {
  const inside = readdirSync(abs).filter((f) => CONFIG_SEARCH_PLACES.includes(f));
  return new PxeError('PXE_ERR_CONFIG_NOT_FOUND', `--config ${path} is a folder, not a config file`, {
    fix: inside.length
      ? `pass the file: --config ` +
        `${join(path, inside[0]!)}${inside.length > 1 ? ` (the folder also has ${inside.slice(1).join(', ')})` : ''}`
      : `pass a config file (pxekit.config.yaml, .json, .js, .ts…); the folder ${basename(abs)} has none of ` +
        `${CONFIG_SEARCH_PLACES.join(', ')}`,
    details: { path: abs },
  });
}

async function wrapParse<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PxeError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    const kind = /^JSON Error/.test(msg) ? 'JSON' : /^YAML Error/.test(msg) ? 'YAML' : undefined;
    throw new PxeError('PXE_ERR_CONFIG_PARSE', `cannot read config ${where}:\n${parseMessage(msg)}`, {
      cause: err,
      fix: kind
        ? `fix the ${kind} syntax at the place marked ` +
          `above${kind === 'JSON' ? ' (a trailing comma, a missing quote or brace)' : ' (indentation, an unclosed bracket or quote)'}`
        : 'fix the error shown above (an exception thrown while loading a JS/TS config, or a syntax error in it)',
    });
  }
}

/**
 * The parser's message without the "JSON Error in FILE:" prefix (the file is named already) and with each
 * paragraph once: parse-json repeats its code frame after the reason. Colour codes go: the code frame is
 * coloured whenever CI is set (picocolors), and the message also lands in JSON logs and files.
 */
export function parseMessage(msg: string): string {
  const body = stripVTControlCharacters(msg).replace(/^(JSON|YAML) Error in [^\n]*?:\s*/, '');
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const para of body.split(/\n\s*\n/)) {
    const key = para.trim();
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    kept.push(para.replace(/\s+$/, ''));
  }
  return kept.join('\n');
}

/** The folder relative plugin paths are resolved from. */
export function configDir(filepath: string): string {
  return dirname(filepath);
}
