/**
 * The DhcpContext of one received packet: the core's classification (options 60/77/93/94/97/175), the
 * client's boot session brought up to date with it, and a child logger made only when something logs.
 */
import type { Logger } from 'pino';
import type { DhcpContext } from '../hooks/dhcp.js';
import type { SessionStore } from '../session/store.js';
import type { BootSession } from '../session/types.js';
import { messageTypeName, type DhcpPacket } from './packet.js';
import { classify, type ClientClass } from './pxe.js';

/** Classifies `packet` and patches its sender's session (only its last-seen time when nothing changed). */
export function packetContext(
  log: Logger,
  sessions: Pick<SessionStore, 'get' | 'upsert'>,
  packet: DhcpPacket,
  messageType: number,
  inc: { kind: 'dhcp' | 'bootserver'; source: { address: string; port: number } },
  mode: 'proxy' | 'full',
  local: { address?: string; interface?: string },
): DhcpContext {
  const client = classify(packet);
  const ip = packet.ciaddr !== '0.0.0.0' ? packet.ciaddr : undefined;
  const firmware = sessionFirmware(client.firmware);
  const known = sessions.get(packet.mac);
  // A known client usually sends what it sent last time: then only touch the session (last seen).
  const session =
    known && sameClient(known, client, firmware, ip)
      ? sessions.upsert(packet.mac)
      : sessions.upsert(packet.mac, {
          ...(client.arch !== undefined ? { arch: client.arch } : {}),
          archName: client.archName,
          firmware,
          ...(client.vendorClass ? { vendorClass: client.vendorClass } : {}),
          userClass: client.userClass,
          isIpxe: client.isIpxe,
          ...(client.guid ? { guid: client.guid } : {}),
          ...(ip ? { ip } : {}),
        });
  return new PacketContext(log, packet, messageType, inc.kind, mode, inc.source, local, client, session);
}

/**
 * A packet's DhcpContext. Its child logger is made on first use: at the default level most packets
 * log nothing, and pino's child() costs more than the rest of the context. (A class, not an object
 * literal with a getter: V8 builds those slowly.)
 */
class PacketContext implements DhcpContext {
  #log: Logger | undefined;
  readonly #parent: Logger;

  constructor(
    parent: Logger,
    public packet: DhcpPacket,
    public messageType: number,
    public kind: 'dhcp' | 'bootserver',
    public mode: 'proxy' | 'full',
    public source: { address: string; port: number },
    public local: { address?: string; interface?: string },
    public client: ClientClass,
    public session: BootSession,
  ) {
    this.#parent = parent;
  }

  get log(): Logger {
    this.#log ??= this.#parent.child({
      xid: hex(this.packet.xid),
      mac: this.packet.mac,
      dhcp: messageTypeName(this.messageType),
    });
    return this.#log;
  }

  set log(value: Logger) {
    this.#log = value;
  }
}

/** A DHCP transaction id as logs show it (`0x0000abcd`). */
export function hex(xid: number): string {
  return `0x${xid.toString(16).padStart(8, '0')}`;
}

/** Whether a session already holds everything the patch in packetContext would set. */
function sameClient(
  s: BootSession,
  c: ClientClass,
  firmware: BootSession['firmware'],
  ip: string | undefined,
): boolean {
  return (
    (c.arch === undefined || s.arch === c.arch) &&
    s.archName === c.archName &&
    s.firmware === firmware &&
    (!c.vendorClass || s.vendorClass === c.vendorClass) &&
    s.isIpxe === c.isIpxe &&
    (!c.guid || s.guid === c.guid) &&
    (!ip || s.ip === ip) &&
    sameStrings(s.userClass, c.userClass)
  );
}

function sameStrings(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === b) return true;
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The session keeps the four firmware kinds TFTP/HTTP care about; U-Boot and others are `unknown` there. */
function sessionFirmware(f: string): 'bios' | 'uefi' | 'uefi-http' | 'unknown' {
  return f === 'bios' || f === 'uefi' || f === 'uefi-http' ? f : 'unknown';
}
