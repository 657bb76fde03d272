/**
 * Named keys for client architectures (option 93, RFC 4578 §2.1 / IANA registry), shared by boot-by-arch
 * and ipxe-chain so operators write the same names everywhere. Numbers (`"7"`) are accepted too.
 * 7, 8 and 9 are all x64 UEFI (firmware-quirks.md "Arch 7 vs 9": firmware sends either).
 */
export const ARCH_KEYS = {
  bios: [0, 1],
  uefi32: [6],
  uefi64: [7, 8, 9],
  arm32: [10],
  arm64: [11],
  uefiHttp32: [15],
  uefiHttp64: [16],
  uefiHttpArm32: [18],
  uefiHttpArm64: [19],
  rpi: [41],
} as const satisfies Record<string, readonly number[]>;

export type ArchKey = keyof typeof ARCH_KEYS;
export const ARCH_KEY_NAMES = Object.keys(ARCH_KEYS) as ArchKey[];

/** JSON-schema pattern for numeric keys. */
export const ARCH_NUMBER_KEY = '^[0-9]{1,5}$';

/**
 * Looks an arch up in a table keyed by names and/or numbers. A numeric key beats a named one, so
 * `{ uefi64: 'ipxe.efi', "9": 'other.efi' }` sends 9 elsewhere. Returns the key that matched.
 */
export function lookupByArch<V>(
  table: Readonly<Record<string, V | undefined>>,
  arch: number | undefined,
): { key: string; value: V } | undefined {
  if (arch === undefined) return undefined;
  const byNumber = table[String(arch)];
  if (byNumber !== undefined) return { key: String(arch), value: byNumber };
  for (const name of ARCH_KEY_NAMES) {
    const v = table[name];
    if (v !== undefined && (ARCH_KEYS[name] as readonly number[]).includes(arch)) return { key: name, value: v };
  }
  return undefined;
}

/** Schema `properties` for a table of strings keyed by arch name, with a description per key. */
export function archTableSchema(
  describe: (key: ArchKey, archs: readonly number[]) => string,
  defaults: Partial<Record<ArchKey, string>> = {},
): { properties: Record<string, object>; patternProperties: Record<string, object> } {
  const properties: Record<string, object> = {};
  for (const k of ARCH_KEY_NAMES) {
    properties[k] = {
      type: 'string',
      minLength: 1,
      description: describe(k, ARCH_KEYS[k]),
      ...(defaults[k] !== undefined ? { default: defaults[k] } : {}),
    };
  }
  return {
    properties,
    patternProperties: {
      [ARCH_NUMBER_KEY]: {
        type: 'string',
        minLength: 1,
        description: 'a boot file or URL for this raw option 93 value',
      },
    },
  };
}
