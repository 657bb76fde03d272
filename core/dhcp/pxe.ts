/**
 * PXE client classification (RFC 4578, PXE spec 2.1, iPXE): what booted, on what CPU, asking how.
 * `classify` never throws: a malformed PXE option leaves its field unset, because a client with an
 * odd option 94 should still get an address. Plugins enrich the result through the `classify` hook.
 */
import { archInfo } from './pxe-arch.js';
import type { Cpu, Firmware } from './pxe-arch.js';
import { decodeSubOptions } from './option-values.js';
import { parsePxeVendorOptions } from './pxe-vendor.js';
import type { PxeBootItem } from './pxe-vendor.js';
import { isZeroIp } from './packet.js';
import type { DhcpPacket } from './packet.js';

export type { Cpu, Firmware } from './pxe-arch.js';

/** Option 94 (RFC 4578 §2.2): the client's network interface identifier. */
export interface NetworkInterfaceId {
  /** 1 = UNDI. */
  type: number;
  major: number;
  minor: number;
}

/** How the request reached us through a relay (RFC 2131 §4.1, RFC 3046). */
export interface RelayInfo {
  /** The relay agent's address (`giaddr`): reply to it, and pick the pool by its subnet. */
  giaddr: string;
  /** Relay hop count from the header. */
  hops: number;
  /** Option 82 sub-options (1 circuit id, 2 remote id, 5 link selection, ...), raw; empty without 82. */
  agentInfo: Map<number, Buffer>;
}

/** Everything the core knows about a DHCP client from one request. */
export interface ClientClass {
  /** Hardware address, lowercase with colons (`52:54:00:77:ef:64`). */
  mac: string;
  /** Option 93, first value: the client system architecture; falls back to the `Arch:NNNNN` in option 60. */
  arch: number | undefined;
  /** Every option 93 value, in the client's order (RFC 4578 allows a list); empty without 93. */
  archs: number[];
  /** Stable name of `arch`: `bios-x86`, `x64-uefi` (for 7, 8 and 9), `arm64-uefi`, `x64-uefi-http`, `rpiboot`, `unknown`, ... */
  archName: string;
  /** Firmware kind from `arch`; `uefi-http` also when option 60 starts with `HTTPClient`. */
  firmware: Firmware;
  /** CPU the boot file must be built for. */
  cpu: Cpu;
  /** The client wants a URL rather than a TFTP file name (HTTP-boot arch or `HTTPClient` vendor class). */
  httpBoot: boolean;
  /** Option 60 as sent (e.g. `PXEClient:Arch:00007:UNDI:003000`), undefined without it. */
  vendorClass: string | undefined;
  /** Option 60 starts with `PXEClient`: a PXE ROM, which needs option 60 `PXEClient` echoed. */
  isPxeClient: boolean;
  /** Option 60 starts with `HTTPClient`: UEFI HTTP boot, which ignores offers without 60 `HTTPClient`. */
  isHttpClient: boolean;
  /** Option 77 classes: iPXE's raw `iPXE` and RFC 3004 length-prefixed lists both decode to strings. */
  userClass: string[];
  /** Already running iPXE (user class `iPXE` or option 175): hand it a script, not iPXE again (chain loop). */
  isIpxe: boolean;
  /** iPXE's option 175 sub-options (feature flags, bus id 177, ...), raw; empty without 175. */
  ipxe: Map<number, Buffer>;
  /** Option 94, when it is the 3-byte form. */
  nii: NetworkInterfaceId | undefined;
  /** Option 97 is present (any length): echo it in replies (PXE spec; some ROMs drop replies without it). */
  hasGuidOption: boolean;
  /** Option 97's raw value, to echo byte for byte (length 0 is legal: some Intel NICs send it so). */
  guidRaw: Buffer | undefined;
  /** The machine UUID from a 17-byte type-0 option 97, as 8-4-4-4-12 lowercase hex in wire byte order. */
  guid: string | undefined;
  /** Option 43 sub-option 71 of a boot-server REQUEST (on 4011): the boot item asked for. */
  pxeBootItem: PxeBootItem | undefined;
  /** Set when `giaddr` is not 0.0.0.0. */
  relay: RelayInfo | undefined;
  /** Free-form labels for plugins (`classify` hook), e.g. `{ model: 'rpi4' }`. Empty from the core. */
  labels: Record<string, string>;
}

const PXE_CLIENT = 'PXEClient';
const HTTP_CLIENT = 'HTTPClient';

/** Classifies a client request. Pure and total: never throws, whatever the options hold. */
export function classify(packet: DhcpPacket): ClientClass {
  const o = packet.options;
  const vendorClass = latin1(o.get(60));
  const archs = u16List(o.get(93));
  const arch = archs[0] ?? archFromVendorClass(vendorClass);
  const info = archInfo(arch);
  const isPxeClient = vendorClass?.startsWith(PXE_CLIENT) ?? false;
  const isHttpClient = vendorClass?.startsWith(HTTP_CLIENT) ?? false;
  const userClass = parseUserClass(o.get(77));
  const ipxeRaw = o.get(175);
  const ipxe = (ipxeRaw && decodeSubOptions(ipxeRaw)) || new Map<number, Buffer>();
  const guidRaw = o.get(97);
  const vendorOpts = o.get(43);
  return {
    mac: packet.mac,
    arch,
    archs,
    archName: info.name,
    firmware: isHttpClient && info.firmware === 'uefi' ? 'uefi-http' : info.firmware,
    cpu: info.cpu,
    httpBoot: info.http || isHttpClient,
    vendorClass,
    isPxeClient,
    isHttpClient,
    userClass,
    isIpxe: ipxeRaw !== undefined || userClass.includes('iPXE'),
    ipxe,
    nii: parseNii(o.get(94)),
    hasGuidOption: guidRaw !== undefined,
    guidRaw,
    guid: guidRaw?.length === 17 && guidRaw[0] === 0 ? uuidString(guidRaw, 1) : undefined,
    pxeBootItem: isPxeClient && vendorOpts ? parsePxeVendorOptions(vendorOpts)?.bootItem : undefined,
    relay: isZeroIp(packet.giaddr)
      ? undefined
      : { giaddr: packet.giaddr, hops: packet.hops, agentInfo: decodeSubOptions(o.get(82) ?? EMPTY) ?? new Map() },
    labels: {},
  };
}

const EMPTY = Buffer.alloc(0);

function latin1(buf: Buffer | undefined): string | undefined {
  if (buf === undefined) return undefined;
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  return buf.toString('latin1', 0, end);
}

function u16List(buf: Buffer | undefined): number[] {
  const out: number[] = [];
  if (!buf) return out;
  // RFC 4578 §2.1 says the length is even; read whole pairs and ignore a stray last byte.
  for (let i = 0; i + 1 < buf.length; i += 2) out.push(buf.readUInt16BE(i));
  return out;
}

/** `PXEClient:Arch:00007:UNDI:003000` → 7 (PXE spec 2.1 §2.2.3); used only when option 93 is missing. */
function archFromVendorClass(vc: string | undefined): number | undefined {
  if (!vc) return undefined;
  const m = /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vc);
  return m ? Number(m[1]) : undefined;
}

/**
 * Option 77. RFC 3004 encodes each class as a length byte then data; iPXE sends the bare string
 * `iPXE` (fixtures README #1). Read it as RFC 3004 only when the length bytes tile the value exactly.
 */
export function parseUserClass(buf: Buffer | undefined): string[] {
  if (!buf || buf.length === 0) return [];
  const classes: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const len = buf[i]!;
    if (len === 0 || i + 1 + len > buf.length) return [latin1(buf)!];
    classes.push(buf.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return classes;
}

/** Encodes user classes the RFC 3004 way (for tests and for relaying). */
export function encodeUserClass(classes: string[]): Buffer {
  return Buffer.concat(
    classes.map((c) => {
      const b = Buffer.from(c, 'latin1');
      return Buffer.concat([Buffer.from([Math.min(b.length, 255)]), b.subarray(0, 255)]);
    }),
  );
}

function parseNii(buf: Buffer | undefined): NetworkInterfaceId | undefined {
  return buf?.length === 3 ? { type: buf[0]!, major: buf[1]!, minor: buf[2]! } : undefined;
}

function uuidString(buf: Buffer, at: number): string {
  const h = buf.toString('hex', at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
