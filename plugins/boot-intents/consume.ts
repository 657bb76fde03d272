import type { BootEvent } from 'pxekit';
import { globMatch, isUrl, normalizeVirtualPath } from 'pxekit/kit';

/** Loader binaries that chain back into DHCP: fetching one does not end the boot chain. */
export const DEFAULT_CHAIN_FILES = [
  'undionly*',
  '*.kpxe',
  '*.kkpxe',
  '*.kkkpxe',
  '*.pxe',
  '*.lkrn',
  'ipxe*.efi',
  'snp*.efi',
  'snponly*.efi',
];

/** `/a/b` of a TFTP path or of a URL's path, without query; undefined if unusable. */
export function targetPath(fileOrUrl: string): string | undefined {
  let p = fileOrUrl;
  if (isUrl(fileOrUrl)) {
    try {
      p = decodeURIComponent(new URL(fileOrUrl).pathname);
    } catch {
      return undefined;
    }
  }
  const n = normalizeVirtualPath(p.replace(/[?#].*$/, ''));
  return n.ok ? n.path : undefined;
}

export interface ConsumeRules {
  chainFiles: readonly string[];
  consumeOn: readonly string[];
}

/**
 * Does this successful transfer end a one-shot boot? (see README "When is a one-shot used?")
 * 1. the fetched path is the session's boot target (the file or URL chosen in DHCP), and the client is
 *    running iPXE (it fetched its script) or the target is not a chain loader (`chainFiles`); or
 * 2. the fetched path matches a `consumeOn` glob.
 */
export function endsBootChain(event: BootEvent, rules: ConsumeRules): boolean {
  if (event.outcome !== 'ok' || (event.type !== 'tftp.done' && event.type !== 'http.get')) return false;
  if (event.data['method'] === 'HEAD') return false;
  // http.get is `ok` for 416 too: only a delivered (or unchanged, 304) body counts.
  const status = event.data['status'];
  if (typeof status === 'number' && status >= 400) return false;
  const raw = event.data['path'];
  if (typeof raw !== 'string') return false;
  const path = targetPath(raw);
  if (!path) return false;
  if (rules.consumeOn.some((g) => globMatch(g, path))) return true;
  const s = event.session;
  const target = s?.boot?.file ? targetPath(s.boot.file) : undefined;
  if (!target || target !== path) return false;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return s?.isIpxe === true || !rules.chainFiles.some((g) => globMatch(g, name));
}
