/**
 * Turns a DHCPv6 request into what the IPv4 boot machinery already understands: the client's MAC
 * (option 79 of the nearest relay, the EUI-64 link-local source, or the DUID), and a stand-in
 * DHCPv4 packet whose options 60/77/93/94 come from DHCPv6 16/15/61/62, so `classify` puts an IPv6
 * client in the same arch table as option 93. Also turns a `selectBoot` answer into options 59/60/16.
 */
import type { ClientClass } from '../dhcp/pxe.js';
import { encodeUserClass } from '../dhcp/pxe.js';
import type { DhcpPacket } from '../dhcp/packet.js';
import { addressBytes } from '../dhcp6/address.js';
import { ENTERPRISE_INTEL } from '../dhcp6/constants.js';
import { duidHex, duidMac, macFromLinkLocal, macOf } from '../dhcp6/duid.js';
import { findOption, userClassStrings, vendorClassStrings } from '../dhcp6/options.js';
import type { Dhcp6Message, Dhcp6Option, Dhcp6RelayMessage } from '../dhcp6/types.js';
import type { Dhcp6ContextInfo } from '../hooks/dhcp.js';
import type { BootSpec } from '../session/types.js';

/** The client's MAC and where it came from; `duid:<hex>` when it cannot be known. */
export function clientMac(
  msg: Dhcp6Message,
  relays: readonly Dhcp6RelayMessage[],
  source: string,
): { mac: string; macSource: Dhcp6ContextInfo['macSource'] } {
  const inner = relays[relays.length - 1];
  const lla = inner ? findOption(inner.options, 'client-linklayer-addr') : undefined;
  if (lla && lla.linkType === 1 && lla.address.length === 6) return { mac: macOf(lla.address), macSource: 'option79' };
  const peer = inner ? inner.peerAddress : source.split('%', 1)[0]!;
  let fromLinkLocal: string | undefined;
  try {
    fromLinkLocal = macFromLinkLocal(Buffer.from(addressBytes(peer)));
  } catch {
    fromLinkLocal = undefined;
  }
  if (fromLinkLocal) return { mac: fromLinkLocal, macSource: 'link-local' };
  const cid = findOption(msg.options, 'client-id');
  const fromDuid = cid && duidMac(cid.duid);
  if (fromDuid) return { mac: fromDuid, macSource: 'duid' };
  return { mac: `duid:${cid ? duidHex(cid.duid).replace(/:/g, '') : 'none'}`, macSource: 'unknown' };
}

/** A DHCPv4-shaped view of the request for `classify` and for plugins that read `ctx.packet`. */
export function standInPacket(msg: Dhcp6Message, mac: string): DhcpPacket {
  const options = new Map<number, Buffer>();
  const arch = findOption(msg.options, 'client-arch-type');
  if (arch) {
    const b = Buffer.alloc(arch.types.length * 2);
    arch.types.forEach((t, i) => b.writeUInt16BE(t, i * 2));
    options.set(93, b);
  }
  const vendor = vendorClassStrings(msg.options)[0];
  if (vendor !== undefined) options.set(60, Buffer.from(vendor, 'latin1'));
  const users = userClassStrings(msg.options);
  if (users.length > 0) options.set(77, encodeUserClass(users));
  const nii = findOption(msg.options, 'nii');
  if (nii) options.set(94, Buffer.from([nii.type, nii.major, nii.minor]));
  const chaddr = Buffer.alloc(16);
  const known = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac);
  if (known) Buffer.from(mac.replace(/:/g, ''), 'hex').copy(chaddr);
  return {
    op: 1,
    htype: 1,
    hlen: known ? 6 : 0,
    hops: 0,
    xid: msg.transactionId,
    secs: Math.floor((findOption(msg.options, 'elapsed-time')?.centiseconds ?? 0) / 100),
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr,
    mac,
    sname: '',
    file: '',
    options,
  };
}

/**
 * RFC 5970 options for a boot decision: 59 = the URL (a TFTP path becomes `tftp://[server]/path`),
 * 60 = `spec.params`, and 16 `HTTPClient` echoed for UEFI HTTP boot (which ignores replies without it).
 */
export function bootOptions6(spec: BootSpec | undefined, client: ClientClass, serverAddress: string): Dhcp6Option[] {
  if (!spec || spec.noBoot || !spec.file) return [];
  const next = spec.nextServer?.includes(':') ? spec.nextServer : serverAddress;
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(spec.file)
    ? spec.file
    : `tftp://[${next}]/${spec.file.replace(/^\/+/, '')}`;
  const out: Dhcp6Option[] = [{ kind: 'bootfile-url', url }];
  if (spec.params && spec.params.length > 0) out.push({ kind: 'bootfile-param', params: spec.params });
  if (client.isHttpClient)
    out.push({ kind: 'vendor-class', enterprise: ENTERPRISE_INTEL, data: [Buffer.from('HTTPClient')] });
  return out;
}
