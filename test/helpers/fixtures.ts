/**
 * Loads the shared real-client packet captures (`/work/shared/fixtures`, see its README).
 * The shared folder is `../shared` next to the repository root; `PXEKIT_SHARED` overrides it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** One entry of `fixtures/index.json`. */
export interface FixtureInfo {
  /** Path under `fixtures/`, e.g. `dhcp/uefi-edk2-discover.hex`. */
  file: string;
  client: string;
  src: string;
  dst: string;
  bytes: number;
  /** Summary such as ``DISCOVER; xid 0x...; opt93=7; opt60=`...`; options 53,57,...``. */
  decoded: string;
  note: string;
}

/** The shared folder: `$PXEKIT_SHARED`, else `<repo>/../shared`. */
export function sharedDir(): string {
  const env = process.env.PXEKIT_SHARED;
  if (env) return path.resolve(env);
  return fileURLToPath(new URL('../../../shared/', import.meta.url));
}

/** The fixtures folder, or undefined if it is not there (tests then skip with a reason). */
export function fixturesDir(): string | undefined {
  const dir = path.join(sharedDir(), 'fixtures');
  return existsSync(path.join(dir, 'index.json')) ? dir : undefined;
}

/** Why fixture tests are skipped, or false when the fixtures are present (for `test(name, { skip })`). */
export function fixturesSkip(): string | false {
  return fixturesDir() ? false : `fixtures not found in ${sharedDir()} (set PXEKIT_SHARED)`;
}

function requireDir(): string {
  const dir = fixturesDir();
  if (!dir) throw new Error(`fixtures not found in ${sharedDir()} (set PXEKIT_SHARED)`);
  return dir;
}

/** The bytes of one fixture, by path under `fixtures/` (`dhcp/uefi-edk2-discover.hex`) or DHCP base name. */
export function loadFixture(name: string): Buffer {
  const rel = name.includes('/') ? name : `dhcp/${name}`;
  const file = rel.endsWith('.hex') ? rel : `${rel}.hex`;
  const hex = readFileSync(path.join(requireDir(), file), 'utf8').trim();
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`fixture ${file} is not lowercase hex`);
  return Buffer.from(hex, 'hex');
}

/** Every entry of `index.json`, optionally only those under one folder (`dhcp`, `tftp`). */
export function fixtureIndex(folder?: string): FixtureInfo[] {
  const all = JSON.parse(readFileSync(path.join(requireDir(), 'index.json'), 'utf8')) as FixtureInfo[];
  return folder ? all.filter((f) => f.file.startsWith(`${folder}/`)) : all;
}

/** File names (`*.hex`) in one fixture folder, sorted. */
export function fixtureFiles(folder: string): string[] {
  return readdirSync(path.join(requireDir(), folder))
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => `${folder}/${f}`);
}
