/**
 * Named getters for the options a DHCP server reads on every request. Each returns undefined when
 * the option is absent and throws `DecodeError('bad-option-value')` when it is malformed.
 */
import { getOption } from './option-values.js';
import type { DhcpPacket } from './packet.js';

/** Option 53: 1 = DISCOVER ... 8 = INFORM; undefined for plain BOOTP. */
export function messageType(p: DhcpPacket): number | undefined {
  return getOption(p, 53);
}

/** Option 50: the address a client asks for (SELECTING / INIT-REBOOT). */
export function requestedIp(p: DhcpPacket): string | undefined {
  return getOption(p, 50);
}

/** Option 54: the server the client chose, or the server that sent a reply. */
export function serverId(p: DhcpPacket): string | undefined {
  return getOption(p, 54);
}

/** Option 55: the option codes the client asks for, in its order. */
export function paramRequestList(p: DhcpPacket): number[] | undefined {
  return getOption(p, 55);
}

/** Option 57: the largest DHCP message the client accepts (counting IP and UDP headers). */
export function maxMessageSize(p: DhcpPacket): number | undefined {
  return getOption(p, 57);
}

/** Option 61: the client identifier, raw (usually type 1 + MAC, or RFC 4361 IAID/DUID). */
export function clientId(p: DhcpPacket): Buffer | undefined {
  return getOption(p, 61);
}

/** Option 12: the client's host name. */
export function hostname(p: DhcpPacket): string | undefined {
  return getOption(p, 12);
}

/** Option 51: lease time in seconds (0xffffffff = infinite). */
export function leaseTime(p: DhcpPacket): number | undefined {
  return getOption(p, 51);
}

/** Option 60: the vendor class identifier string (`PXEClient:Arch:...`, `HTTPClient...`, `udhcp 1.35.0`). */
export function vendorClassId(p: DhcpPacket): string | undefined {
  return getOption(p, 60);
}

/** Option 67: the boot file name (trailing NULs dropped). */
export function bootFileName(p: DhcpPacket): string | undefined {
  return getOption(p, 67);
}

/** Option 1: subnet mask. */
export function subnetMask(p: DhcpPacket): string | undefined {
  return getOption(p, 1);
}

/** Option 3: routers. */
export function routers(p: DhcpPacket): string[] | undefined {
  return getOption(p, 3);
}

/** Option 6: DNS servers. */
export function dnsServers(p: DhcpPacket): string[] | undefined {
  return getOption(p, 6);
}

/** True when the client lists `code` in option 55 (a malformed 55 counts as not requested). */
export function requestsOption(p: DhcpPacket, code: number): boolean {
  const raw = p.options.get(55);
  return raw !== undefined && raw.includes(code);
}
