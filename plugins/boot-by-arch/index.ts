import { definePlugin, STAGE_LATE } from 'pxekit';
import { ARCH_KEYS, type ArchKey, archTableSchema, bootTargetFor, lookupByArch } from 'pxekit/kit';

/** Boot file (TFTP path) or URL per arch name (`bios`, `uefi64`, ...) or raw option 93 number (`"7"`). */
export type BootByArchOptions = Partial<Record<ArchKey, string>> & Record<string, string | undefined>;

/**
 * Defaults. BIOS and x64 UEFI are the files Debian's `ipxe` package ships (/usr/lib/ipxe); ia32 and
 * arm64 iPXE are not packaged by Debian: build them (`make bin-i386-efi/ipxe.efi`,
 * `make CROSS=aarch64-linux-gnu- bin-arm64-efi/snp.efi`) and drop them in under these names. arm64 gets
 * the SNP-only build because iPXE has few native drivers for ARM boards' NICs.
 */
export const DEFAULT_BOOT_FILES: Partial<Record<ArchKey, string>> = {
  bios: 'undionly.kpxe',
  uefi32: 'ipxe-ia32.efi',
  uefi64: 'ipxe.efi',
  arm64: 'snp-arm64.efi',
  uefiHttp32: '/ipxe-ia32.efi',
  uefiHttp64: '/ipxe.efi',
  uefiHttpArm64: '/snp-arm64.efi',
};

const NAME = 'boot-by-arch';

export default function bootByArch(options: BootByArchOptions = {}) {
  const schema = archTableSchema(
    (key, archs) =>
      `boot file or URL for ${key} (option 93 = ` +
      `${archs.join('/')})${/^uefiHttp/.test(key) ? '; a path becomes a full URL on http.baseUrl' : ''}`,
    DEFAULT_BOOT_FILES,
  );
  return definePlugin<BootByArchOptions>({
    name: NAME,
    options,
    optionsSchema: { type: 'object', additionalProperties: false, ...schema },
    apply(server, { options: table, log }) {
      // The fallback: runs after ipxe-chain, host-profiles and other deciders have had their say.
      server.dhcp.hooks.selectBoot.tap({ name: NAME, stage: STAGE_LATE }, (ctx) => {
        const { client } = ctx;
        const hit = lookupByArch(table, client.arch);
        if (!hit) {
          log.debug(
            { event: 'boot-by-arch.arch.unknown', mac: client.mac, arch: client.arch, archName: client.archName },
            'no boot file for this client architecture',
          );
          return undefined;
        }
        // UEFI HTTP boot takes only a full URL in the file field (EDK2 HttpBootDxe).
        const file = bootTargetFor(server, ctx, hit.value);
        if (file === undefined) {
          log.warn(
            { event: 'boot-by-arch.baseurl.missing', mac: client.mac, arch: client.arch },
            'HTTP-boot client but no http.baseUrl and no local address to build a URL from',
          );
          return undefined;
        }
        return { file, reason: `arch ${client.arch} (${client.archName}) → ${hit.key}` };
      });
    },
  });
}

export { ARCH_KEYS };
