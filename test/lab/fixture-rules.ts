/**
 * Which packet of which capture (capture.sh step) becomes which fixture, with what it shows.
 * Read by extract-fixtures.ts. Addresses and MACs are the fixed ones capture.sh sets up.
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

type Versions = Map<string, string>;
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
const up = (v: Versions, pkg: string) => (v.get(pkg) ?? '?').replace(/^\d+:/, '').split(/[-+~]/)[0];

const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const [DISCOVER, OFFER, REQUEST, ACK, RELEASE] = [1, 2, 3, 5, 7];
const TFTP = { rrq: 1, data: 3, ack: 4, error: 5, oack: 6 } as const;

interface DhcpWant {
  type: number;
  mac: string;
  has?: number[];
  lacks?: number[];
  dport?: number;
}

/** The first client packet of `type` from `mac`, with/without the given options. */
function request(w: DhcpWant): Picker {
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
function reply(type: number, to: string, from?: string): Picker {
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
function rrq(ip: string, nth = 0): Picker {
  return (packets) => packets.filter((p) => p.src === ip && p.dport === 69 && op(p) === TFTP.rrq)[nth];
}

/** A packet of the transfer that began with fixture `first`: sent to its client, or by it. */
function transfer(first: string, dir: 'to' | 'from', code: number, which: 'first' | 'last' | number): Picker {
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

const ROM = (v: Versions) => `SeaBIOS + iPXE ROM (QEMU e1000, ipxe-qemu ${up(v, 'ipxe-qemu')})`;
const EDK2 = (v: Versions) => `OVMF ${up(v, 'ovmf')} EDK2 PxeBcDxe (virtio-net)`;
const IPXE_EFI = (v: Versions) => `ipxe.efi ${up(v, 'ipxe')} (chained from EDK2, SNP)`;
const HTTPBOOT = (v: Versions) => `OVMF ${up(v, 'ovmf')} EDK2 HttpBootDxe (virtio-net)`;
const AAVMF = (v: Versions) => `AAVMF ${up(v, 'qemu-efi-aarch64')} EDK2, arm64 (virtio-net)`;
const DNSMASQ = (mode: string) => (v: Versions) => `dnsmasq ${up(v, 'dnsmasq-base')} (${mode})`;
const DHCLIENT = (v: Versions) => `ISC dhclient ${up(v, 'isc-dhcp-client')}`;
const UDHCPC = (v: Versions) => `busybox udhcpc ${up(v, 'busybox')}`;

const BIOS_MAC = '52:54:00:77:b1:05';
const UEFI_MAC = '52:54:00:77:ef:64';
const PX_UEFI_MAC = '52:54:00:00:ef:64';
const PX_BIOS_MAC = '52:54:00:00:b1:05';
const IPXE = [77, 175];

export const RULES: Rule[] = [
  // full DHCP, BIOS: the ROM is iPXE already
  {
    file: 'dhcp/bios-ipxe-rom-discover.hex',
    pcap: 'bios',
    client: ROM,
    note: 'arch 0, yet already iPXE: user class `iPXE` sent raw (no RFC 3004 length byte) and option 175',
    pick: request({ type: DISCOVER, mac: BIOS_MAC }),
  },
  {
    file: 'dhcp/bios-ipxe-rom-request.hex',
    pcap: 'bios',
    client: ROM,
    note: 'SELECTING: options 50 and 54 repeat the offer',
    pick: request({ type: REQUEST, mac: BIOS_MAC }),
  },
  {
    file: 'dhcp/dnsmasq-offer-bios-ipxe.hex',
    pcap: 'bios',
    client: DNSMASQ('full'),
    note: 'to an iPXE client: the script URL in option 67, BOOTP file empty, siaddr set',
    pick: reply(OFFER, 'dhcp/bios-ipxe-rom-discover.hex'),
  },
  {
    file: 'dhcp/dnsmasq-ack-bios-ipxe.hex',
    pcap: 'bios',
    client: DNSMASQ('full'),
    note: '',
    pick: reply(ACK, 'dhcp/bios-ipxe-rom-request.hex'),
  },
  {
    file: 'tftp/ipxe-bios-rrq.hex',
    pcap: 'bios',
    client: ROM,
    note: 'iPXE asks for a script over TFTP: blksize=1432 tsize=0',
    pick: rrq('10.77.0.165'),
  },
  {
    file: 'tftp/ipxe-bios-oack.hex',
    pcap: 'bios',
    client: DNSMASQ('TFTP'),
    note: 'OACK with blksize and the script size',
    pick: transfer('tftp/ipxe-bios-rrq.hex', 'to', TFTP.oack, 'first'),
  },
  // full DHCP, UEFI PXE: EDK2, then ipxe.efi
  {
    file: 'dhcp/uefi-edk2-discover.hex',
    pcap: 'uefi',
    client: EDK2,
    note: 'arch 7, `PXEClient:Arch:00007:UNDI:003000`, no user class; option order 53,57,55,97,94,93,60; broadcast flag',
    pick: request({ type: DISCOVER, mac: UEFI_MAC, lacks: IPXE }),
  },
  {
    file: 'dhcp/uefi-edk2-request.hex',
    pcap: 'uefi',
    client: EDK2,
    note: '',
    pick: request({ type: REQUEST, mac: UEFI_MAC, lacks: IPXE }),
  },
  {
    file: 'dhcp/dnsmasq-offer-uefi-edk2.hex',
    pcap: 'uefi',
    client: DNSMASQ('full'),
    note: 'boot file `ipxe.efi` in option 67 (EDK2 asks for 67 in option 55), NUL-terminated; BOOTP file empty',
    pick: reply(OFFER, 'dhcp/uefi-edk2-discover.hex'),
  },
  {
    file: 'dhcp/dnsmasq-ack-uefi-edk2.hex',
    pcap: 'uefi',
    client: DNSMASQ('full'),
    note: '',
    pick: reply(ACK, 'dhcp/uefi-edk2-request.hex'),
  },
  {
    file: 'dhcp/uefi-ipxe-efi-discover.hex',
    pcap: 'uefi',
    client: IPXE_EFI,
    note: 'arch 7, `PXEClient:Arch:00007:UNDI:003010`, user class `iPXE`, option 175 (virtio bus id)',
    pick: request({ type: DISCOVER, mac: UEFI_MAC, has: IPXE }),
  },
  {
    file: 'dhcp/uefi-ipxe-efi-request.hex',
    pcap: 'uefi',
    client: IPXE_EFI,
    note: '',
    pick: request({ type: REQUEST, mac: UEFI_MAC, has: IPXE }),
  },
  {
    file: 'dhcp/dnsmasq-offer-uefi-ipxe.hex',
    pcap: 'uefi',
    client: DNSMASQ('full'),
    note: 'the HTTP script URL in option 67',
    pick: reply(OFFER, 'dhcp/uefi-ipxe-efi-discover.hex'),
  },
  {
    file: 'dhcp/dnsmasq-ack-uefi-ipxe.hex',
    pcap: 'uefi',
    client: DNSMASQ('full'),
    note: '',
    pick: reply(ACK, 'dhcp/uefi-ipxe-efi-request.hex'),
  },
  {
    file: 'tftp/edk2-01-rrq-tsize-probe.hex',
    pcap: 'uefi',
    client: EDK2,
    note: 'first RRQ: tsize=0 blksize=1468 windowsize=4, only to learn the size',
    pick: rrq('10.77.0.128', 0),
  },
  {
    file: 'tftp/edk2-02-oack.hex',
    pcap: 'uefi',
    client: DNSMASQ('TFTP'),
    note: 'OACK blksize + tsize; dnsmasq leaves windowsize out',
    pick: transfer('tftp/edk2-01-rrq-tsize-probe.hex', 'to', TFTP.oack, 'first'),
  },
  {
    file: 'tftp/edk2-03-error8-abort.hex',
    pcap: 'uefi',
    client: EDK2,
    note: 'ERROR 8 "User aborted the transfer": the end of the size probe, not a failure',
    pick: transfer('tftp/edk2-01-rrq-tsize-probe.hex', 'from', TFTP.error, 'first'),
  },
  {
    file: 'tftp/edk2-04-rrq.hex',
    pcap: 'uefi',
    client: EDK2,
    note: 'the real RRQ, from a new port: blksize=1468 windowsize=4, no tsize',
    pick: rrq('10.77.0.128', 1),
  },
  {
    file: 'tftp/edk2-05-oack.hex',
    pcap: 'uefi',
    client: DNSMASQ('TFTP'),
    note: 'OACK blksize only',
    pick: transfer('tftp/edk2-04-rrq.hex', 'to', TFTP.oack, 'first'),
  },
  {
    file: 'tftp/edk2-06-ack0.hex',
    pcap: 'uefi',
    client: EDK2,
    note: 'ACK 0 for the OACK',
    pick: transfer('tftp/edk2-04-rrq.hex', 'from', TFTP.ack, 0),
  },
  {
    file: 'tftp/edk2-07-data1.hex',
    pcap: 'uefi',
    client: DNSMASQ('TFTP'),
    note: 'DATA 1: 1468 bytes, the start of ipxe.efi (`MZ`)',
    pick: transfer('tftp/edk2-04-rrq.hex', 'to', TFTP.data, 1),
  },
  {
    file: 'tftp/edk2-08-ack1.hex',
    pcap: 'uefi',
    client: EDK2,
    note: 'one ACK per block: the server did not take windowsize',
    pick: transfer('tftp/edk2-04-rrq.hex', 'from', TFTP.ack, 1),
  },
  {
    file: 'tftp/edk2-09-data-last.hex',
    pcap: 'uefi',
    client: DNSMASQ('TFTP'),
    note: 'the short last block',
    pick: transfer('tftp/edk2-04-rrq.hex', 'to', TFTP.data, 'last'),
  },
  {
    file: 'tftp/edk2-10-ack-last.hex',
    pcap: 'uefi',
    client: EDK2,
    note: 'the final ACK',
    pick: transfer('tftp/edk2-04-rrq.hex', 'from', TFTP.ack, 'last'),
  },
  // UEFI HTTP boot and arm64
  {
    file: 'dhcp/uefi-httpboot-discover.hex',
    pcap: 'uefi-http',
    client: HTTPBOOT,
    note: 'arch 16, `HTTPClient:Arch:00016:UNDI:003000`; PXE option order, but option 55 lacks 66 and 128-135',
    pick: request({ type: DISCOVER, mac: '52:54:00:77:48:10', lacks: IPXE }),
  },
  {
    file: 'dhcp/dnsmasq-offer-uefi-httpboot.hex',
    pcap: 'uefi-http',
    client: DNSMASQ('full'),
    note: 'what HTTP boot accepts: option 60 `HTTPClient` echoed and a URL as the boot file',
    pick: reply(OFFER, 'dhcp/uefi-httpboot-discover.hex'),
  },
  {
    file: 'dhcp/arm64-edk2-discover.hex',
    pcap: 'arm64',
    client: AAVMF,
    note: 'arm64 UEFI PXE: arch 11, `PXEClient:Arch:00011:UNDI:003000`, otherwise the x64 EDK2 layout',
    pick: request({ type: DISCOVER, mac: '52:54:00:77:aa:64' }),
  },
  {
    file: 'tftp/arm64-edk2-rrq-tsize-probe.hex',
    pcap: 'arm64',
    client: AAVMF,
    note: 'the same size probe as x64 EDK2',
    pick: rrq('10.77.0.112', 0),
  },
  {
    file: 'tftp/arm64-edk2-rrq.hex',
    pcap: 'arm64',
    client: AAVMF,
    note: 'the real RRQ from a new port',
    pick: rrq('10.77.0.112', 1),
  },
  {
    file: 'dhcp/arm64-httpboot-discover.hex',
    pcap: 'arm64-http',
    client: AAVMF,
    note: 'arm64 UEFI HTTP boot: arch 19, `HTTPClient:Arch:00019:UNDI:003000`',
    pick: request({ type: DISCOVER, mac: '52:54:00:77:aa:65' }),
  },
  // proxyDHCP next to a site DHCP server
  {
    file: 'dhcp/proxy-uefi-edk2-discover.hex',
    pcap: 'proxy-uefi',
    client: EDK2,
    note: 'EDK2 on a LAN with a proxyDHCP server',
    pick: request({ type: DISCOVER, mac: PX_UEFI_MAC, lacks: IPXE }),
  },
  {
    file: 'dhcp/dnsmasq-proxy-offer-uefi-edk2.hex',
    pcap: 'proxy-uefi',
    client: DNSMASQ('proxy'),
    note: 'proxy OFFER to UEFI: option 60 `PXEClient`, no option 43, no boot file, no lease: EDK2 must ask on 4011',
    pick: reply(OFFER, 'dhcp/proxy-uefi-edk2-discover.hex', '10.99.0.1'),
  },
  {
    file: 'dhcp/site-dhcp-offer-uefi-edk2.hex',
    pcap: 'proxy-uefi',
    client: DNSMASQ('site DHCP, no PXE'),
    note: 'the address offer from the site server beside the proxy',
    pick: reply(OFFER, 'dhcp/proxy-uefi-edk2-discover.hex', '10.99.0.3'),
  },
  {
    file: 'dhcp/uefi-edk2-request-4011.hex',
    pcap: 'proxy-uefi',
    client: EDK2,
    note: 'boot-server REQUEST from port 4011 to port 4011, unicast, new xid, ciaddr = its leased address',
    pick: request({ type: REQUEST, mac: PX_UEFI_MAC, dport: 4011, lacks: IPXE }),
  },
  {
    file: 'dhcp/dnsmasq-proxy-ack-4011-uefi-edk2.hex',
    pcap: 'proxy-uefi',
    client: DNSMASQ('proxy'),
    note: 'ACK from 4011 to 4011 with the boot file',
    pick: reply(ACK, 'dhcp/uefi-edk2-request-4011.hex'),
  },
  {
    file: 'dhcp/uefi-ipxe-efi-request-4011.hex',
    pcap: 'proxy-uefi',
    client: IPXE_EFI,
    note: "iPXE's proxy REQUEST: from port 68, the xid of its DISCOVER",
    pick: request({ type: REQUEST, mac: PX_UEFI_MAC, dport: 4011, has: IPXE }),
  },
  {
    file: 'dhcp/dnsmasq-proxy-ack-4011-uefi-ipxe.hex',
    pcap: 'proxy-uefi',
    client: DNSMASQ('proxy'),
    note: 'ACK from 4011 to 68 with the script URL',
    pick: reply(ACK, 'dhcp/uefi-ipxe-efi-request-4011.hex'),
  },
  {
    file: 'dhcp/dnsmasq-proxy-offer-bios-ipxe.hex',
    pcap: 'proxy-bios',
    client: DNSMASQ('proxy'),
    note: 'proxy OFFER to the BIOS iPXE ROM, with a PXE menu in option 43',
    pick: (packets) =>
      packets.find(
        (p) =>
          p.payload[0] === BOOTREPLY && p.dhcp?.type === OFFER && p.dhcp.mac === PX_BIOS_MAC && p.src === '10.99.0.1',
      ),
  },
  {
    file: 'dhcp/bios-ipxe-rom-request-4011.hex',
    pcap: 'proxy-bios',
    client: ROM,
    note: 'PXE boot-server REQUEST: xid 0, option 60 just `PXEClient`, boot item in 43, from port 68',
    pick: request({ type: REQUEST, mac: PX_BIOS_MAC, dport: 4011 }),
  },
  {
    file: 'dhcp/dnsmasq-proxy-ack-4011-bios-ipxe.hex',
    pcap: 'proxy-bios',
    client: DNSMASQ('proxy'),
    note: '',
    pick: reply(ACK, 'dhcp/bios-ipxe-rom-request-4011.hex'),
  },
  // plain DHCP clients
  {
    file: 'dhcp/dhclient-discover.hex',
    pcap: 'dhclient',
    client: DHCLIENT,
    note: '',
    pick: request({ type: DISCOVER, mac: '52:54:00:dc:00:01' }),
  },
  {
    file: 'dhcp/dhclient-request.hex',
    pcap: 'dhclient',
    client: DHCLIENT,
    note: 'SELECTING',
    pick: request({ type: REQUEST, mac: '52:54:00:dc:00:01', has: [54] }),
  },
  {
    file: 'dhcp/dhclient-request-init-reboot.hex',
    pcap: 'dhclient',
    client: DHCLIENT,
    note: 'INIT-REBOOT with a remembered lease: option 50, no option 54',
    pick: request({ type: REQUEST, mac: '52:54:00:dc:00:01', has: [50], lacks: [54] }),
  },
  {
    file: 'dhcp/dhclient-release.hex',
    pcap: 'dhclient',
    client: DHCLIENT,
    note: 'RELEASE, unicast from the leased address',
    pick: request({ type: RELEASE, mac: '52:54:00:dc:00:01' }),
  },
  {
    file: 'dhcp/dnsmasq-offer-dhclient.hex',
    pcap: 'dhclient',
    client: DNSMASQ('full'),
    note: 'to a client that is not PXE: no boot file',
    pick: reply(OFFER, 'dhcp/dhclient-discover.hex'),
  },
  {
    file: 'dhcp/udhcpc-discover.hex',
    pcap: 'udhcpc',
    client: UDHCPC,
    note: 'option 60 `udhcp <version>`, client id 61',
    pick: request({ type: DISCOVER, mac: '52:54:00:dc:00:02' }),
  },
  {
    file: 'dhcp/udhcpc-request.hex',
    pcap: 'udhcpc',
    client: UDHCPC,
    note: '',
    pick: request({ type: REQUEST, mac: '52:54:00:dc:00:02' }),
  },
  // TFTP clients
  {
    file: 'tftp/curl-rrq.hex',
    pcap: 'curl',
    client: (v) => `curl ${up(v, 'curl')} --tftp-blksize 1468`,
    note: 'curl always adds tsize=0 and timeout=6',
    pick: rrq('10.99.0.2'),
  },
  {
    file: 'tftp/curl-oack.hex',
    pcap: 'curl',
    client: DNSMASQ('TFTP'),
    note: '',
    pick: transfer('tftp/curl-rrq.hex', 'to', TFTP.oack, 'first'),
  },
  {
    file: 'tftp/atftp-rrq-blksize-windowsize.hex',
    pcap: 'atftp-opts',
    client: (v) => `atftp ${up(v, 'atftp')} --option "blksize 1468" --option "windowsize 8"`,
    note: 'only the options asked for; windowsize is RFC 7440',
    pick: rrq('10.99.0.2'),
  },
  {
    file: 'tftp/atftp-oack.hex',
    pcap: 'atftp-opts',
    client: DNSMASQ('TFTP'),
    note: 'blksize only: windowsize not acknowledged, so the transfer runs lock-step',
    pick: transfer('tftp/atftp-rrq-blksize-windowsize.hex', 'to', TFTP.oack, 'first'),
  },
  {
    file: 'tftp/atftp-rrq-plain.hex',
    pcap: 'atftp-plain',
    client: (v) => `atftp ${up(v, 'atftp')} (no options)`,
    note: 'bare RRQ',
    pick: rrq('10.99.0.2'),
  },
  {
    file: 'tftp/tftp-hpa-rrq.hex',
    pcap: 'tftp-hpa',
    client: (v) => `tftp-hpa ${up(v, 'tftp-hpa')}`,
    note: 'bare RRQ: no option support',
    pick: rrq('10.99.0.2'),
  },
];
