import { definePlugin, STAGE_DEFAULT } from 'pxekit';
import {
  type ArchKey,
  archTableSchema,
  bootTargetFor,
  boundHttpPort,
  expandVars,
  isUrl,
  joinUrl,
  lookupByArch,
  serverBaseUrl,
  sessionUrlVars,
} from 'pxekit/kit';

export interface IpxeChainOptions {
  /** What a client already running iPXE gets: a URL, or a path joined to the server's base URL. `${mac}` etc. are expanded. */
  script: string;
  /** iPXE binaries for raw PXE ROMs, by arch name or option 93 number. Empty: leave raw ROMs to boot-by-arch. */
  binaries: Partial<Record<ArchKey, string>> & Record<string, string | undefined>;
}

const NAME = 'ipxe-chain';

export default function ipxeChain(options: Partial<IpxeChainOptions> = {}) {
  const table = archTableSchema(
    (key, archs) =>
      `iPXE binary for raw ${key} PXE ROMs (option 93 = ${archs.join('/')}), e.g. undionly.kpxe, ipxe.efi, snponly.efi`,
  );
  return definePlugin<IpxeChainOptions>({
    name: NAME,
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        script: {
          type: 'string',
          minLength: 1,
          default: '/boot.ipxe',
          description:
            'iPXE script for clients already running iPXE: a URL or a path on the server (base URL = ' +
            'http.baseUrl or the local address); ${mac}, ${mac_dashes}, ${mac_hex}, ${ip}, ${arch}, ' +
            '${archName} are filled in, other ${...} are left for iPXE',
        },
        binaries: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description:
            'iPXE binary per arch for raw PXE ROMs (TFTP path, or URL for HTTP boot); none ' +
            'configured: raw ROMs fall through to boot-by-arch',
          ...table,
        },
      },
    },
    apply(server, { options, log }) {
      server.dhcp.hooks.selectBoot.tap({ name: NAME, stage: STAGE_DEFAULT }, (ctx) => {
        const { client } = ctx;
        if (client.isIpxe) {
          // Second stage: never hand iPXE another iPXE binary (the chainload loop of fixtures README #1).
          const vars = sessionUrlVars({ ...ctx.session, mac: client.mac });
          const script = expandVars(options.script, vars);
          if (isUrl(script)) return { file: script, reason: 'client runs iPXE: script URL' };
          const base = serverBaseUrl(server.config, ctx.local.address, boundHttpPort(server));
          if (base) return { file: joinUrl(base, script), reason: 'client runs iPXE: script URL' };
          // No HTTP address known: iPXE fetches a bare file name from next-server over TFTP.
          log.debug({ event: 'ipxe-chain.script.tftp', mac: client.mac }, 'no base URL: iPXE script over TFTP');
          return { file: script.replace(/^\/+/, ''), reason: 'client runs iPXE: script over TFTP (no HTTP base URL)' };
        }
        const hit = lookupByArch(options.binaries, client.arch);
        if (!hit) return undefined;
        const file = bootTargetFor(server, ctx, hit.value);
        if (file === undefined) {
          log.warn(
            { event: 'ipxe-chain.baseurl.missing', mac: client.mac, arch: client.arch },
            'HTTP-boot client but no base URL for its iPXE binary',
          );
          return undefined;
        }
        return { file, reason: `raw ${client.archName} PXE ROM → iPXE (${hit.key})` };
      });
    },
  });
}
