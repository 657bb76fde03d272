import { normalizeMac } from './mac.js';
import { unmapIpv4 } from '../util/ipv4-mapped.js';

/** Variables a mapped path may contain, and what each accepts in a request path. */
const PATH_VARS: Record<string, string> = {
  mac: '[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}',
  mac_dashes: '[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){5}',
  mac_hex: '[0-9a-fA-F]{12}',
  ip: '\\d{1,3}(?:\\.\\d{1,3}){3}',
  // GRUB's per-IP config names: the IPv4 address as 8 upper-case hex digits, then shortened one digit at a
  // time (grub.cfg-0A4D0064, grub.cfg-0A4D006, … grub.cfg-0), like pxelinux.
  ip_hex: '[0-9A-F]{1,8}',
  // The client machine identifier (DHCP option 97) as GRUB names it: grub.cfg-7726a678-7fc0-4853-a4f6-c85ac36a120a.
  uuid: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
};

/** The IPv4 address `a.b.c.d` as 8 upper-case hex digits (`10.77.0.100` → `0A4D0064`), or undefined. */
export function ipv4Hex(ip: string): string | undefined {
  const parts = unmapIpv4(ip).split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map((p) => Number(p).toString(16).toUpperCase().padStart(2, '0')).join('');
}

/** True when a path's `{{ip_hex}}` value names `ip`: it is `ip` in hex or a leading part of it. */
export function ipHexNames(ipHex: string, ip: string | undefined): boolean {
  const full = ip ? ipv4Hex(ip) : undefined;
  return full !== undefined && full.startsWith(ipHex);
}

export interface PathPattern {
  source: string;
  /**
   * Matches a normalised virtual path; returns the MAC/IP the path names (if any), or undefined. `ipHex` is
   * the (possibly shortened) hex address of `{{ip_hex}}`: check it against the client with `ipHexNames`; `uuid`
   * (lower case) must equal the client's option-97 GUID.
   */
  match(path: string): { mac?: string; ip?: string; ipHex?: string; uuid?: string } | undefined;
}

/**
 * Compiles a mapped path such as `/pxelinux.cfg/01-{{mac_dashes}}` or `/boot.ipxe`. Only the variables
 * in PATH_VARS may appear (one segment's worth each); everything else is literal. Leading `/` optional.
 */
export function compilePathPattern(source: string): PathPattern | { error: string } {
  const path = source.startsWith('/') ? source : `/${source}`;
  const names: string[] = [];
  let re = '';
  let last = 0;
  for (const m of path.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)) {
    const name = m[1]!;
    const body = PATH_VARS[name];
    if (!body)
      return {
        error: `"${source}": unknown path variable {{${name}}} (use ${Object.keys(PATH_VARS)
          .map((k) => `{{${k}}}`)
          .join(', ')})`,
      };
    re += escape(path.slice(last, m.index)) + `(${body})`;
    names.push(name);
    last = m.index + m[0].length;
  }
  re += escape(path.slice(last));
  const regex = new RegExp(`^${re}$`);
  return {
    source,
    match(p) {
      const m = regex.exec(p);
      if (!m) return undefined;
      const out: { mac?: string; ip?: string; ipHex?: string; uuid?: string } = {};
      names.forEach((name, i) => {
        const v = m[i + 1]!;
        if (name === 'ip') out.ip = v;
        else if (name === 'ip_hex') out.ipHex = v;
        else if (name === 'uuid') out.uuid = v.toLowerCase();
        else {
          const mac = normalizeMac(v);
          if (mac) out.mac = mac;
        }
      });
      return out;
    },
  };
}

function escape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
