/**
 * Pieces of the DHCPv6 messages the tests send: an IA_NA, and the options EDK2's PXE client (RFC 5970)
 * sends after its IA in every message of a network boot.
 */
import type { Dhcp6Option } from '../../core/dhcp6/codec.js';

/** IA_NA `iaid` asking for (or holding) `addresses`, with T1 = T2 = `t` (0: the server chooses). */
export function iaNa(iaid: number, addresses: readonly (string | undefined)[] = [], t = 0): Dhcp6Option {
  return {
    kind: 'ia-na',
    iaid,
    t1: t,
    t2: t,
    options: addresses
      .filter((a) => a !== undefined)
      .map((address) => ({ kind: 'iaaddr' as const, address, preferredLifetime: 0, validLifetime: 0, options: [] })),
  };
}

/** ORO 59/60/23/16, NII (UNDI 3.0), client arch and vendor class (enterprise 343), as EDK2 sends them. */
export function edk2PxeOptions(arch = 7, vendor = 'PXEClient:Arch:00007:UNDI:003000'): Dhcp6Option[] {
  return [
    { kind: 'oro', codes: [59, 60, 23, 16] },
    { kind: 'nii', type: 1, major: 3, minor: 0 },
    { kind: 'client-arch-type', types: [arch] },
    { kind: 'vendor-class', enterprise: 343, data: [Buffer.from(vendor)] },
  ];
}
