/**
 * Which packet of which capture (capture.sh step) becomes which fixture, with what it shows.
 * Read by extract-fixtures.ts. Addresses and MACs are the fixed ones capture.sh sets up; the pickers
 * are in fixture-pick.ts, the firmware boots' rules in fixture-rules-firmware.ts.
 */
import {
  ACK,
  BOOTREPLY,
  DHCLIENT,
  DISCOVER,
  DNSMASQ,
  EDK2,
  IPXE,
  IPXE_EFI,
  OFFER,
  PX_BIOS_MAC,
  PX_UEFI_MAC,
  RELEASE,
  REQUEST,
  ROM,
  TFTP,
  UDHCPC,
  reply,
  request,
  rrq,
  transfer,
  up,
  type Rule,
} from './fixture-pick.js';
import { FIRMWARE_RULES } from './fixture-rules-firmware.js';

export type { Packet, Rule } from './fixture-pick.js';

/** In dependency order: a reply's rule comes after the rule of the request it answers. */
export const RULES: Rule[] = [
  ...FIRMWARE_RULES,
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
