import { createHash } from 'node:crypto';
import { encode } from '../dhcp/codec.js';
import { encodeSubOptions } from '../dhcp/option-values.js';
import {
  BOOTREQUEST,
  DHCPDISCOVER,
  FLAG_BROADCAST,
  chaddrFromMac,
  createPacket,
  type DhcpPacket,
} from '../dhcp/packet.js';

export interface SyntheticDiscoverOptions {
  /** Client MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Option 93 value (0 BIOS, 7 x64 UEFI, 11 arm64 UEFI, 16 x64 HTTP boot, ...). */
  arch: number;
  /** Add what a client already running iPXE sends: user class `iPXE` (option 77) and option 175. */
  ipxe?: boolean;
  xid?: number;
}

/** The arches whose firmware sends option 60 `HTTPClient` (UEFI HTTP boot, RFC 5970 / UEFI 2.5 §24.7). */
const HTTP_BOOT_ARCHES = new Set([15, 16, 18, 19]);

/** The parameter request list EDK2's PXE client sends (fixture uefi-edk2-discover). */
const PRL = [
  1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130,
  131, 132, 133, 134, 135,
];

/**
 * A DISCOVER as PXE firmware sends it: 53, 55, 57, 93, 94 (UNDI 3.0), 97 (a GUID derived from the MAC,
 * so output is stable), 60 `PXEClient:Arch:000NN:UNDI:003000` (or `HTTPClient:…` for HTTP-boot arches),
 * and with `ipxe` also 77 `iPXE` (iPXE's bare, non-RFC-3004 form) and 175 (iPXE feature flags).
 */
export function syntheticDiscover(o: SyntheticDiscoverOptions): DhcpPacket {
  const chaddr = chaddrFromMac(o.mac);
  if (!chaddr || o.mac.split(/[:-]/).length !== 6)
    throw new Error(`"${o.mac}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  if (!Number.isInteger(o.arch) || o.arch < 0 || o.arch > 0xffff)
    throw new Error(`arch ${o.arch} is not an option 93 value (0..65535)`);
  const options = new Map<number, Buffer>();
  options.set(53, Buffer.from([DHCPDISCOVER]));
  options.set(55, Buffer.from(PRL));
  const mms = Buffer.alloc(2);
  mms.writeUInt16BE(1472);
  options.set(57, mms);
  const arch = Buffer.alloc(2);
  arch.writeUInt16BE(o.arch);
  options.set(93, arch);
  options.set(94, Buffer.from([1, 3, 0]));
  const guid = createHash('sha256').update(`pxekit-explain:${o.mac.toLowerCase()}`).digest().subarray(0, 16);
  options.set(97, Buffer.concat([Buffer.from([0]), guid]));
  const kind = HTTP_BOOT_ARCHES.has(o.arch) ? 'HTTPClient' : 'PXEClient';
  options.set(60, Buffer.from(`${kind}:Arch:${String(o.arch).padStart(5, '0')}:UNDI:003000`, 'latin1'));
  if (o.ipxe) {
    options.set(77, Buffer.from('iPXE', 'latin1'));
    // iPXE's 175: 16 PXE-ext version, 19 HTTP, 24 DNS, 33 EFI (or not), as a stock build sends.
    options.set(
      175,
      encodeSubOptions(
        new Map([
          [16, Buffer.from([2])],
          [19, Buffer.from([1])],
          [24, Buffer.from([1])],
        ]),
      ),
    );
  }
  return createPacket({
    op: BOOTREQUEST,
    xid: o.xid ?? 0x0e7a1a1e,
    flags: FLAG_BROADCAST,
    chaddr,
    mac: o.mac.toLowerCase().replace(/-/g, ':'),
    options,
  });
}

export function syntheticDiscoverBuffer(o: SyntheticDiscoverOptions): Buffer {
  return encode(syntheticDiscover(o));
}
