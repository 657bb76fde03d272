/**
 * Small builders shared by the lease durability tests and their child processes: DHCP client
 * messages for a MAC (optionally relayed) and the message type / server id of a reply.
 */
import { BOOTREQUEST, chaddrFromMac, createPacket, type DhcpPacket } from '../../../core/dhcp/packet.js';
import { messageType, serverId } from '../../../core/dhcp/option-accessors.js';
import { setOption } from '../../../core/dhcp/option-values.js';

/** A locally administered MAC from a number: 02:<tag>:<i as 4 bytes>. */
export function macOf(tag: number, i: number): string {
  return [2, tag, (i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

export function clientMessage(
  mac: string,
  type: number,
  xid: number,
  opts: { giaddr?: string; requested?: string; server?: string } = {},
): DhcpPacket {
  const p = createPacket({
    op: BOOTREQUEST,
    xid,
    chaddr: chaddrFromMac(mac)!,
    ...(opts.giaddr ? { giaddr: opts.giaddr, hops: 1 } : {}),
  });
  setOption(p, 53, type);
  if (opts.requested) setOption(p, 50, opts.requested);
  if (opts.server) setOption(p, 54, opts.server);
  return p;
}

export const replyType = (p: DhcpPacket): number | undefined => messageType(p);
export const replyServer = (p: DhcpPacket): string | undefined => serverId(p);
