/**
 * Building a reply from a request (RFC 2131 §4.3, table 3) and choosing where it goes (§4.1).
 * Pure helpers for the listener; no sockets.
 */
import {
  BOOTREPLY,
  CLIENT_PORT,
  DHCPNAK,
  DHCPOFFER,
  FLAG_BROADCAST,
  SERVER_PORT,
  createPacket,
  isZeroIp,
} from './packet.js';
import type { DhcpPacket } from './packet.js';
import { setOption } from './option-values.js';

export interface CreateReplyOptions {
  /** Echo option 61 when the client sent it (RFC 6842 says servers MUST). Default true. */
  echoClientId?: boolean;
}

/**
 * A reply skeleton for `request`: op BOOTREPLY; xid, flags, giaddr, chaddr, htype, hlen copied;
 * ciaddr copied except in an OFFER or NAK (table 3); yiaddr/siaddr 0 and sname/file empty for the
 * caller to fill; a NAK through a relay gets the broadcast bit (§4.3.2). Options start as 53 =
 * `messageType`, 54 = `serverId`, then 61 and 97 echoed when the client sent them (97 byte for byte,
 * even length 0: PXE ROMs drop replies without it).
 * Option 82 is not copied here: call `echoRelayAgentInfo` last, after every other option is set.
 */
export function createReply(
  request: DhcpPacket,
  messageType: number,
  serverId: string,
  opts: CreateReplyOptions = {},
): DhcpPacket {
  const chaddr = Buffer.alloc(16);
  request.chaddr.copy(chaddr, 0, 0, 16);
  const keepCiaddr = messageType !== DHCPOFFER && messageType !== DHCPNAK;
  // RFC 2131 §4.3.2: a NAK through a relay carries the broadcast bit so the relay broadcasts it.
  const relayedNak = messageType === DHCPNAK && !isZeroIp(request.giaddr);
  const reply = createPacket({
    op: BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    xid: request.xid,
    flags: relayedNak ? request.flags | FLAG_BROADCAST : request.flags,
    ciaddr: keepCiaddr ? request.ciaddr : '0.0.0.0',
    giaddr: request.giaddr,
    chaddr,
    mac: request.mac,
  });
  setOption(reply, 53, messageType);
  setOption(reply, 54, serverId);
  const clientId = request.options.get(61);
  if (clientId !== undefined && opts.echoClientId !== false) reply.options.set(61, Buffer.from(clientId));
  const guid = request.options.get(97);
  if (guid !== undefined) reply.options.set(97, Buffer.from(guid));
  return reply;
}

/**
 * Copies the request's option 82 into the reply as its last option (RFC 3046 §2.2: the server echoes
 * it unchanged, last). Does nothing when the request had none. Call after all other options are set.
 */
export function echoRelayAgentInfo(reply: DhcpPacket, request: DhcpPacket): void {
  const info = request.options.get(82);
  reply.options.delete(82);
  if (info !== undefined) reply.options.set(82, Buffer.from(info));
}

/** Where to send a reply. */
export interface ReplyDestination {
  address: string;
  port: number;
  /** Send with SO_BROADCAST to the limited broadcast address. */
  broadcast: boolean;
  /**
   * Which RFC 2131 §4.1 rule applied. `yiaddr` means unicast to an address the client does not hold
   * yet: the spec expects the server to add an ARP entry for `chaddr` first; a listener that cannot
   * (no raw sockets) should broadcast instead, which every client accepts.
   */
  rule: 'relay' | 'ciaddr' | 'broadcast' | 'yiaddr';
}

/**
 * RFC 2131 §4.1 reply addressing for port 67 traffic: via the relay (`giaddr`, to port 67) if any;
 * a NAK is broadcast; to `ciaddr` when the client has one; broadcast if the client set the broadcast
 * bit; else to `yiaddr`. Replies on the PXE boot server port (4011) instead go back to the request's
 * source address and port, which only the listener knows.
 */
export function replyDestination(request: DhcpPacket, reply: DhcpPacket): ReplyDestination {
  if (!isZeroIp(request.giaddr)) return { address: request.giaddr, port: SERVER_PORT, broadcast: false, rule: 'relay' };
  const isNak = reply.options.get(53)?.[0] === DHCPNAK;
  if (!isNak && !isZeroIp(request.ciaddr))
    return { address: request.ciaddr, port: CLIENT_PORT, broadcast: false, rule: 'ciaddr' };
  if (isNak || (request.flags & FLAG_BROADCAST) !== 0 || isZeroIp(reply.yiaddr)) {
    return { address: '255.255.255.255', port: CLIENT_PORT, broadcast: true, rule: 'broadcast' };
  }
  return { address: reply.yiaddr, port: CLIENT_PORT, broadcast: false, rule: 'yiaddr' };
}
