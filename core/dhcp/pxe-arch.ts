/**
 * The IANA "Processor Architecture Types" registry (DHCP option 93, RFC 4578 §2.1 and RFC 5970),
 * values 0-41, mapped to a stable name, a firmware kind and a CPU.
 *
 * Quirk (firmware-quirks.md, "Arch 7 vs 9"): RFC 4578 calls 7 "EFI BC" and 9 "EFI x86-64", the IANA
 * registry (after erratum 4624) says the reverse, and real x64 firmware sends either. 7, 8 and 9 are
 * therefore all x64 UEFI here; EFI Xscale (8) is long dead and no firmware sends EBC as its arch.
 */

/** What kind of pre-boot environment sent the request. */
export type Firmware = 'bios' | 'uefi' | 'uefi-http' | 'uboot' | 'other' | 'unknown';

/** The processor the boot file must be built for. */
export type Cpu =
  | 'x86'
  | 'x64'
  | 'ia64'
  | 'ebc'
  | 'arm32'
  | 'arm64'
  | 'riscv32'
  | 'riscv64'
  | 'riscv128'
  | 'ppc'
  | 'ppc64'
  | 'alpha'
  | 's390'
  | 'mips32'
  | 'mips64'
  | 'sunway32'
  | 'sunway64'
  | 'loongarch32'
  | 'loongarch64'
  | 'unknown';

export interface ArchInfo {
  /** Stable name, e.g. `bios-x86`, `x64-uefi`, `arm64-uefi-http`, `rpiboot`. */
  name: string;
  firmware: Firmware;
  cpu: Cpu;
  /** The firmware fetches the boot file over HTTP (a URL) rather than TFTP. */
  http: boolean;
}

function a(name: string, firmware: Firmware, cpu: Cpu, http = false): ArchInfo {
  return { name, firmware, cpu, http };
}

/** Indexed by the option 93 value. */
const ARCHES: readonly ArchInfo[] = [
  /* 0 */ a('bios-x86', 'bios', 'x86'),
  /* 1 */ a('pc98', 'bios', 'x86'),
  /* 2 */ a('ia64-efi', 'uefi', 'ia64'),
  /* 3 */ a('alpha', 'other', 'alpha'),
  /* 4 */ a('arc-x86', 'other', 'x86'),
  /* 5 */ a('intel-lean-client', 'other', 'x86'),
  /* 6 */ a('x86-uefi', 'uefi', 'x86'),
  /* 7 */ a('x64-uefi', 'uefi', 'x64'),
  /* 8 */ a('x64-uefi', 'uefi', 'x64'),
  /* 9 */ a('x64-uefi', 'uefi', 'x64'),
  /* 10 */ a('arm32-uefi', 'uefi', 'arm32'),
  /* 11 */ a('arm64-uefi', 'uefi', 'arm64'),
  /* 12 */ a('ppc-openfirmware', 'other', 'ppc'),
  /* 13 */ a('ppc-epapr', 'other', 'ppc'),
  /* 14 */ a('power-opal-v3', 'other', 'ppc64'),
  /* 15 */ a('x86-uefi-http', 'uefi-http', 'x86', true),
  /* 16 */ a('x64-uefi-http', 'uefi-http', 'x64', true),
  /* 17 */ a('ebc-uefi-http', 'uefi-http', 'ebc', true),
  /* 18 */ a('arm32-uefi-http', 'uefi-http', 'arm32', true),
  /* 19 */ a('arm64-uefi-http', 'uefi-http', 'arm64', true),
  /* 20 */ a('bios-x86-http', 'bios', 'x86', true),
  /* 21 */ a('arm32-uboot', 'uboot', 'arm32'),
  /* 22 */ a('arm64-uboot', 'uboot', 'arm64'),
  /* 23 */ a('arm32-uboot-http', 'uboot', 'arm32', true),
  /* 24 */ a('arm64-uboot-http', 'uboot', 'arm64', true),
  /* 25 */ a('riscv32-uefi', 'uefi', 'riscv32'),
  /* 26 */ a('riscv32-uefi-http', 'uefi-http', 'riscv32', true),
  /* 27 */ a('riscv64-uefi', 'uefi', 'riscv64'),
  /* 28 */ a('riscv64-uefi-http', 'uefi-http', 'riscv64', true),
  /* 29 */ a('riscv128-uefi', 'uefi', 'riscv128'),
  /* 30 */ a('riscv128-uefi-http', 'uefi-http', 'riscv128', true),
  /* 31 */ a('s390-basic', 'other', 's390'),
  /* 32 */ a('s390-extended', 'other', 's390'),
  /* 33 */ a('mips32-uefi', 'uefi', 'mips32'),
  /* 34 */ a('mips64-uefi', 'uefi', 'mips64'),
  /* 35 */ a('sunway32-uefi', 'uefi', 'sunway32'),
  /* 36 */ a('sunway64-uefi', 'uefi', 'sunway64'),
  /* 37 */ a('loongarch32-uefi', 'uefi', 'loongarch32'),
  /* 38 */ a('loongarch32-uefi-http', 'uefi-http', 'loongarch32', true),
  /* 39 */ a('loongarch64-uefi', 'uefi', 'loongarch64'),
  /* 40 */ a('loongarch64-uefi-http', 'uefi-http', 'loongarch64', true),
  // The Raspberry Pi boot ROM/EEPROM; the Pi 3/4/5 that send it are 64-bit capable ARM.
  /* 41 */ a('rpiboot', 'other', 'arm64'),
];

const UNKNOWN: ArchInfo = a('unknown', 'unknown', 'unknown');

/** Facts about one option 93 value; values outside the registry give `arch-<n>` with firmware `other`. */
export function archInfo(arch: number | undefined): ArchInfo {
  if (arch === undefined) return UNKNOWN;
  return ARCHES[arch] ?? a(`arch-${arch}`, 'other', 'unknown');
}

/** The highest value in the registry this table knows. */
export const MAX_KNOWN_ARCH = ARCHES.length - 1;
