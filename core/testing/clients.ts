/**
 * Synthetic PXE clients for tests: the DHCP packets real firmware sends, per architecture, built from
 * what the captures of real clients show (explain/discover.ts): a DISCOVER on port 67 and the
 * boot-server REQUEST a UEFI ROM sends to port 4011 after a proxy offer without a boot file.
 */
import { ARCH_KEYS, type ArchKey } from '../boot/arch-keys.js';
import { syntheticDiscover } from '../explain/discover.js';
import { DHCPREQUEST, type DhcpPacket } from '../dhcp/packet.js';

/** An architecture by its pxekit name (`bios`, `uefi64`, `arm64`, `uefiHttp64`, … as in boot-by-arch) or option 93 value. */
export type PxeClientArch = ArchKey | number;

export interface PxeClientOptions {
  /** Default: `52:54:00:00:` + two bytes counted up per client made in this process. */
  mac?: string;
  /** A client already running iPXE: user class `iPXE` (option 77) and option 175. */
  ipxe?: boolean;
  /** The address the client holds (from the site's DHCP server in proxy setups): ciaddr of its 4011 request. */
  ip?: string;
  xid?: number;
}

export interface PxeClient {
  readonly mac: string;
  /** Option 93 value. */
  readonly arch: number;
  readonly ipxe: boolean;
  readonly ip: string;
  /** A fresh DISCOVER (port 67), as the firmware broadcasts it. */
  discover(): DhcpPacket;
  /** A fresh REQUEST to the PXE boot server (port 4011), as EDK2 sends it after a proxy offer. */
  bootServerRequest(): DhcpPacket;
  /** A REQUEST (port 67) for `address` from `serverId`, as after a full-mode OFFER. */
  request(address: string, serverId: string): DhcpPacket;
}

let counter = 0;

/** A PXE client of `arch`; every packet it makes is new (edit them freely). */
export function pxeClient(arch: PxeClientArch, opts: PxeClientOptions = {}): PxeClient {
  const code = typeof arch === 'number' ? arch : ARCH_KEYS[arch]?.[0];
  if (code === undefined)
    throw new Error(`unknown arch "${String(arch)}": use one of ${Object.keys(ARCH_KEYS).join(', ')} or a number`);
  counter++;
  const mac = (opts.mac ?? `52:54:00:00:${hex(counter >> 8)}:${hex(counter)}`).toLowerCase();
  const ipxe = opts.ipxe ?? false;
  const ip = opts.ip ?? '192.0.2.100';
  let xid = opts.xid ?? 0x1000 + counter * 16;
  const fresh = () => syntheticDiscover({ mac, arch: code, ipxe, xid: xid++ });
  return {
    mac,
    arch: code,
    ipxe,
    ip,
    discover: fresh,
    bootServerRequest() {
      const p = fresh();
      p.options.set(53, Buffer.from([DHCPREQUEST]));
      p.ciaddr = ip;
      p.flags = 0;
      return p;
    },
    request(address, serverId) {
      const p = fresh();
      p.options.set(53, Buffer.from([DHCPREQUEST]));
      p.options.set(50, ipBytes(address));
      p.options.set(54, ipBytes(serverId));
      return p;
    },
  };
}

const hex = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
const ipBytes = (ip: string) => Buffer.from(ip.split('.').map(Number));
