/**
 * Loads the project's real-client packet captures in `test/fixtures` (see its README): DHCP and
 * TFTP packets of real firmware and clients, recorded by `test/lab/capture.sh`.
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

/** The project's captures: `test/fixtures` (refreshed by `test/lab/capture.sh`). */
export function fixturesDir(): string {
  return fileURLToPath(new URL('../fixtures/', import.meta.url));
}

/** The path of one fixture file, by path under `test/fixtures/` (`tftp/edk2-04-rrq.hex`). */
export function fixturePath(name: string): string {
  return path.join(fixturesDir(), name);
}

function requireDir(): string {
  const dir = fixturesDir();
  if (!existsSync(path.join(dir, 'index.json')))
    throw new Error(`test/fixtures/index.json is missing: the repository checkout is incomplete (git status)`);
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
