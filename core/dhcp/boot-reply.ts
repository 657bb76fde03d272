/**
 * Putting a boot decision (`BootSpec`) into a DHCP reply: boot file, next server, server name,
 * vendor-class echo, plugin extras. Pure functions on packets, shared by the proxy, boot-server and
 * full-mode paths.
 */
import type { BootSpec } from '../session/types.js';
import { requestsOption } from './option-accessors.js';
import { encodeSubOptions, setOption } from './option-values.js';
import { FILE_SIZE, SNAME_SIZE, type DhcpPacket } from './packet.js';
import type { ClientClass } from './pxe.js';

export interface BootReplyInput {
  reply: DhcpPacket;
  request: DhcpPacket;
  spec: BootSpec;
  /** Our address on the client's network: siaddr unless the spec names another next server. */
  serverAddress: string;
  /** Fill `sname` with the next server when the spec names none (dnsmasq does in boot-server ACKs). */
  snameFallback?: boolean;
}

/** What was put in the reply, for logs and boot events. */
export interface BootReplyInfo {
  bootFile: string | undefined;
  nextServer: string;
}

/**
 * Writes the boot file into the BOOTP `file` field when it fits, and into option 67 when the client
 * asks for 67 (iPXE and EDK2 do) or when it does not fit the field: both firmwares take either, and a
 * URL longer than 127 bytes has only option 67. siaddr = next server (the TFTP server). `sname` and
 * option 66 carry `serverName`. Extra `dhcpOptions` go last, raw, overriding what was set.
 */
export function putBootSpec(input: BootReplyInput): BootReplyInfo {
  const { reply, request, spec } = input;
  const nextServer = spec.nextServer ?? input.serverAddress;
  reply.siaddr = nextServer;
  const file = spec.file;
  if (file !== undefined && file !== '') {
    const fits = Buffer.byteLength(file) < FILE_SIZE;
    if (fits) reply.file = file;
    if (!fits || requestsOption(request, 67)) setOption(reply, 67, file);
  }
  if (spec.serverName) {
    if (Buffer.byteLength(spec.serverName) < SNAME_SIZE) reply.sname = spec.serverName;
    if (requestsOption(request, 66)) setOption(reply, 66, spec.serverName);
  } else if (input.snameFallback) {
    reply.sname = nextServer;
  }
  for (const [code, value] of Object.entries(spec.dhcpOptions ?? {}))
    reply.options.set(Number(code), Buffer.from(value));
  return { bootFile: file || undefined, nextServer };
}

/**
 * Option 60 for a PXE-aware reply: `HTTPClient` to UEFI HTTP boot clients (EDK2 HttpBootDxe ignores
 * an offer without it), `PXEClient` to PXE clients. Returns false (and sets nothing) for others.
 */
export function echoVendorClass(reply: DhcpPacket, client: ClientClass, opts: { pxe: boolean }): boolean {
  const value = client.isHttpClient ? 'HTTPClient' : client.isPxeClient && opts.pxe ? 'PXEClient' : undefined;
  if (value === undefined) return false;
  setOption(reply, 60, value);
  // Keep the echoed 97 after 60, the order dnsmasq uses (captures dnsmasq-proxy-*), for byte-level comparison.
  const guid = reply.options.get(97);
  if (guid !== undefined) {
    reply.options.delete(97);
    reply.options.set(97, guid);
  }
  return true;
}

/**
 * iPXE option 175 sub-option 176 (`no-pxedhcp`) = 1: iPXE stops waiting ~2-3 s for ProxyDHCP offers
 * after the first OFFER (realnet README, "A second, smaller iPXE wait"). Only when we are the one
 * server answering with boot information (full mode).
 */
export function setIpxeNoPxeDhcp(reply: DhcpPacket): void {
  reply.options.set(175, encodeSubOptions(new Map([[176, Buffer.from([1])]])));
}

/** A copy of a plugin's BootSpec with the deciding plugin (plugins may return shared constants). */
export function recordDecision(spec: BootSpec, plugin: string | undefined): BootSpec {
  return { ...spec, ...(plugin ? { decidedBy: plugin } : {}) };
}
