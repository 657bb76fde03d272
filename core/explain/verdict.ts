/**
 * explain's verdict: would this client boot? When not — denied, no answer, told not to netboot, no boot
 * file chosen, or a file (or a file its iPXE script fetches) that no source has — why, and the fix.
 * `pxekit explain` exits 1 when the client would not boot.
 */
import { ARCH_KEYS } from '../boot/arch-keys.js';
import { builtinPluginNames } from '../config/resolve-plugins.js';
import type { ExplainReport, Verdict } from './types.js';
import type { FetchView } from './fetch.js';

/** The arch names (boot-by-arch / ipxe-chain option keys) an option 93 value falls under. */
export function archKeysOf(arch: number | undefined): string[] {
  if (arch === undefined) return [];
  return Object.entries(ARCH_KEYS)
    .filter(([, nums]) => (nums as readonly number[]).includes(arch))
    .map(([k]) => k);
}

/**
 * The verdict of a report. `sources` names the file sources (with their folder or remote when known),
 * for the fix of a missing file.
 */
export function verdictOf(r: ExplainReport, sources: string[]): Verdict {
  const archKey = archKeysOf(r.client.arch)[0] ?? String(r.client.arch ?? '?');
  const archText = `option 93 = ${r.client.arch ?? 'none'} (${archKey})`;
  if (!r.admit.allowed)
    return {
      boots: false,
      summary: `denied by ${r.admit.plugin}${r.admit.reason ? `: ${r.admit.reason}` : ''}`,
      fix: `if this client should boot, allow it in ${r.admit.plugin}'s options in ${r.config.file}`,
    };
  if (r.boot?.noBoot)
    return {
      boots: false,
      summary: `${r.boot.plugin} says this client must not netboot${r.boot.reason ? ` (${r.boot.reason})` : ''}`,
      fix: `if it should netboot, change ${r.boot.plugin}'s decision (boot-intents: pxekit intent clear ${r.client.mac})`,
    };
  if ((r.bootAsked && !r.boot) || (r.dhcp.some((s) => s.reply) && !r.bootFile))
    return {
      boots: false,
      summary: `no plugin chose a boot file for ${archText}`,
      fix:
        `add a boot file for this architecture, e.g. boot-by-arch with { ${archKey}: FILE } (or ` +
        `ipxe-chain's binaries.${archKey}) in ${r.config.file}`,
    };
  if (!r.dhcp.some((s) => s.reply))
    return {
      boots: false,
      summary: 'the client gets no DHCP answer (see the events in step 4)',
      fix: r.client.isPxeClient
        ? 'see why in the events: a plugin dropped it, or dhcp.mode does not answer this kind of packet (docs/config.md)'
        : 'the packet is not from a PXE client (no "PXEClient"/"HTTPClient" in option 60): pxekit gives boot ' +
          'information to network-boot firmware only',
    };
  const bad = r.fetches.find((f) => f.result === 'not found' || f.result === 'denied' || f.result === 'error');
  if (bad) return fetchVerdict(r, bad, bad === r.fetches[0], archKey, sources);
  const first = r.fetches[0];
  const what =
    first?.result === 'file'
      ? `${r.bootFile} from ${first.source}`
      : first?.result === 'script'
        ? `${r.bootFile}, a script by ${first.producedBy}${r.fetches.length > 1 ? ', and every file it fetches' : ''}`
        : `${r.bootFile} (${first?.note ?? 'not followed'})`;
  return { boots: true, summary: `the client gets ${what}` };
}

/** Where a built-in plugin says which file each arch needs and where to get it. */
function readme(plugin: string | undefined): string {
  const base = plugin?.split('#')[0];
  return base && builtinPluginNames().includes(base)
    ? ` (plugins/${base}/README.md says where each file comes from)`
    : '';
}

function fetchVerdict(r: ExplainReport, f: FetchView, first: boolean, archKey: string, sources: string[]): Verdict {
  const via = first ? '' : ` (fetched by the iPXE script ${r.bootFile})`;
  if (f.result === 'denied')
    return {
      boots: false,
      summary: `${f.requested}${via} is refused${f.deniedBy ? ` by ${f.deniedBy}` : ''}${f.reason ? `: ${f.reason}` : ''}`,
      fix:
        `allow this client's ${f.protocol.toUpperCase()} ` +
        `fetch${f.deniedBy ? ` in ${f.deniedBy}'s options` : ''}, or hand out another file`,
    };
  if (f.result === 'error')
    return {
      boots: false,
      summary: `${f.requested}${via} fails (HTTP ${f.status})`,
      fix: 'see the server log for this path (pxekit explain --log-level debug shows it)',
    };
  const path = f.mappedTo ?? (/^[a-z]+:\/\//i.test(f.requested) ? new URL(f.requested).pathname : f.requested);
  const where = sources.length ? ` (${sources.join(', ')})` : ' (none is configured: add source-disk)';
  return {
    boots: false,
    summary: `${f.requested}${via} is in no source: the client would get "file not found"`,
    fix: first
      ? `put ${path.replace(/^\/+/, '')} where a source serves it${where}, or change what ` +
        `${r.boot?.plugin ?? 'the boot plugin'} hands out for ${archKey} in ${r.config.file}${readme(r.boot?.plugin)}`
      : `put ${path.replace(/^\/+/, '')} where a source serves it${where}, or fix the script that names it`,
  };
}
