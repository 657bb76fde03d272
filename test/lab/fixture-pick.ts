/**
 * The packet pickers the fixture rules (fixture-rules.ts) are written with: which DHCP request or reply, which
 * TFTP read request or transfer packet of a capture a fixture is, and the Packet and Rule types they work on.
 */
/** One UDP packet as tshark decoded it. */
export interface Packet {
  frame: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: Buffer;
  /** tshark's info column. */
  info: string;
  dhcp?: {
    /** Option 53. */
    type: number;
    xid: string;
    mac: string;
    /** Option codes in wire order. */
    order: number[];
    options: Map<number, Buffer>;
    yiaddr: string;
    siaddr: string;
    file: string;
  };
}

export type Versions = Map<string, string>;
type Picker = (packets: Packet[], picked: Map<string, Packet>) => Packet | undefined;

export interface Rule {
  /** Path under test/fixtures. */
  file: string;
  /** capture.sh step (its `<step>.pcapng`). */
  pcap: string;
  client: (v: Versions) => string;
  note: string;
  pick: Picker;
}

/** Upstream part of a Debian version ("2.90-4~deb12u1" → "2.90"). */
export const up = (v: Versions, pkg: string) => (v.get(pkg) ?? '?').replace(/^\d+:/, '').split(/[-+~]/)[0];

const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const [DISCOVER, OFFER, REQUEST, ACK, RELEASE] = [1, 2, 3, 5, 7];
export const TFTP = { rrq: 1, data: 3, ack: 4, error: 5, oack: 6 } as const;

interface DhcpWant {
  type: number;
  mac: string;
  has?: number[];
  lacks?: number[];
  dport?: number;
}

/** The first client packet of `type` from `mac`, with/without the given options. */
export function request(w: DhcpWant): Picker {
  return (packets) =>
    packets.find(
      (p) =>
        p.payload[0] === BOOTREQUEST &&
        p.dhcp?.type === w.type &&
        p.dhcp.mac === w.mac &&
        (w.dport === undefined || p.dport === w.dport) &&
        (w.has ?? []).every((c) => p.dhcp!.options.has(c)) &&
        !(w.lacks ?? []).some((c) => p.dhcp!.options.has(c)),
    );
}

/** The server's reply of `type` to the fixture `to` (same xid), optionally from one address. */
export function reply(type: number, to: string, from?: string): Picker {
  return (packets, picked) => {
    const req = picked.get(to);
    return packets.find(
      (p) =>
        p.payload[0] === BOOTREPLY &&
        p.dhcp?.type === type &&
        p.dhcp.xid === req?.dhcp?.xid &&
        (from === undefined || p.src === from),
    );
  };
}

const op = (p: Packet) => p.payload.readUInt16BE(0);
const block = (p: Packet) => p.payload.readUInt16BE(2);

/** The `nth` TFTP read request from `ip`. */
export function rrq(ip: string, nth = 0): Picker {
  return (packets) => packets.filter((p) => p.src === ip && p.dport === 69 && op(p) === TFTP.rrq)[nth];
}

/** A packet of the transfer that began with fixture `first`: sent to its client, or by it. */
export function transfer(first: string, dir: 'to' | 'from', code: number, which: 'first' | 'last' | number): Picker {
  return (packets, picked) => {
    const c = picked.get(first);
    if (!c) return undefined;
    const matches = packets.filter(
      (p) =>
        op(p) === code &&
        p.frame > c.frame &&
        (dir === 'to' ? p.dst === c.src && p.dport === c.sport : p.src === c.src && p.sport === c.sport),
    );
    if (which === 'first') return matches[0];
    if (which === 'last') return matches.at(-1);
    return matches.find((p) => block(p) === which);
  };
}

/** Who sent the packet, by package version (the capture's `versions`), and the fixed MACs of capture.sh. */
export const ROM = (v: Versions) => `SeaBIOS + iPXE ROM (QEMU e1000, ipxe-qemu ${up(v, 'ipxe-qemu')})`;
export const EDK2 = (v: Versions) => `OVMF ${up(v, 'ovmf')} EDK2 PxeBcDxe (virtio-net)`;
export const IPXE_EFI = (v: Versions) => `ipxe.efi ${up(v, 'ipxe')} (chained from EDK2, SNP)`;
export const HTTPBOOT = (v: Versions) => `OVMF ${up(v, 'ovmf')} EDK2 HttpBootDxe (virtio-net)`;
export const AAVMF = (v: Versions) => `AAVMF ${up(v, 'qemu-efi-aarch64')} EDK2, arm64 (virtio-net)`;
export const DNSMASQ = (mode: string) => (v: Versions) => `dnsmasq ${up(v, 'dnsmasq-base')} (${mode})`;
export const DHCLIENT = (v: Versions) => `ISC dhclient ${up(v, 'isc-dhcp-client')}`;
export const UDHCPC = (v: Versions) => `busybox udhcpc ${up(v, 'busybox')}`;

export const BIOS_MAC = '52:54:00:77:b1:05';
export const UEFI_MAC = '52:54:00:77:ef:64';
export const PX_UEFI_MAC = '52:54:00:00:ef:64';
export const PX_BIOS_MAC = '52:54:00:00:b1:05';
export const IPXE = [77, 175];
