/**
 * Loads the project's real-client packet captures in `test/fixtures` (see its README): DHCP and
 * TFTP packets of real firmware and clients, recorded by `test/lab/capture.sh`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { decodeDhcp as decode, type DhcpPacket } from 'pxekit';
import type { DhcpResult, TestServer } from 'pxekit/testing';

const DHCPREQUEST = 3;

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

/** A DHCP capture decoded (a fresh copy each call), optionally edited: `fixturePacket('uefi-edk2-discover', stripIpxe)`. */
export function fixturePacket(name: string, ...edits: Array<(p: DhcpPacket) => void>): DhcpPacket {
  const p = decode(Buffer.from(loadFixture(name)));
  for (const edit of edits) edit(p);
  return p;
}

/** Makes a raw (non-iPXE) PXE ROM out of an iPXE capture: no user class 77, no option 175. */
export function stripIpxe(p: DhcpPacket): void {
  p.options.delete(77);
  p.options.delete(175);
}

/** Sets a MAC on a packet (chaddr and the derived `mac`). */
export function withMac(mac: string): (p: DhcpPacket) => void {
  return (p) => {
    Buffer.from(mac.replace(/:/g, ''), 'hex').copy(p.chaddr, 0);
    p.mac = mac;
  };
}

/** Sets option 93 and the matching option 60 `PXEClient:Arch:000NN:UNDI:003000`. */
export function withArch(arch: number): (p: DhcpPacket) => void {
  return (p) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(arch);
    p.options.set(93, b);
    p.options.set(60, Buffer.from(`PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003000`));
  };
}

/**
 * Turns a DISCOVER capture into the REQUEST the client sends to the boot server (port 4011) once it
 * holds `ip` (ciaddr): how a proxy-mode session learns the client's address.
 */
export function asBootServerRequest(ip: string): (p: DhcpPacket) => void {
  return (p) => {
    p.options.set(53, Buffer.from([DHCPREQUEST]));
    p.ciaddr = ip;
  };
}

/**
 * A captured client asks the boot server (4011) from `ip`, through the real pipeline: afterwards its
 * session holds that address, so TFTP and HTTP requests from `ip` are known to be that client's.
 */
export function requestFrom(server: TestServer, fixture: string, ip: string): Promise<DhcpResult> {
  return server.dhcp(fixturePacket(fixture, asBootServerRequest(ip)), {
    port: 'bootserver',
    source: { address: ip, port: 4011 },
  });
}
