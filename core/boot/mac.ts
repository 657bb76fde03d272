/**
 * MAC addresses in the notations operators paste (colons, dashes, Cisco dots, bare hex) and the
 * patterns allowlists and host selectors use: an exact MAC, an OUI (`52:54:00`), or octet globs
 * (`52:54:00:*`, `*:ab:cd`, `52:54:0?:*`). Everything compares in pxekit's one form: `aa:bb:cc:dd:ee:ff`.
 */

/** `52-54-00-AA-BB-CC`, `5254.00aa.bbcc`, `525400aabbcc`, `52:54:0:aa:bb:cc` → `52:54:00:aa:bb:cc`; undefined if not a MAC. */
export function normalizeMac(input: string): string | undefined {
  const s = input.trim().toLowerCase();
  let octets: string[];
  if (/^[0-9a-f]{12}$/.test(s)) octets = s.match(/../g)!;
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(s)) octets = s.replace(/\./g, '').match(/../g)!;
  else {
    octets = s.split(/[:-]/);
    if (octets.length !== 6 || !octets.every((o) => /^[0-9a-f]{1,2}$/.test(o))) return undefined;
    octets = octets.map((o) => o.padStart(2, '0'));
  }
  return octets.join(':');
}

/** `aa:bb:cc:dd:ee:ff` → `aa-bb-cc-dd-ee-ff` (pxelinux and GRUB file names). */
export function macDashes(mac: string): string {
  return mac.replace(/:/g, '-');
}

/** `aa:bb:cc:dd:ee:ff` → `aabbccddeeff`. */
export function macHex(mac: string): string {
  return mac.replace(/:/g, '');
}

/** A compiled MAC pattern; `source` is what the operator wrote (for logs). */
export interface MacPattern {
  source: string;
  kind: 'exact' | 'oui' | 'glob';
  matches(mac: string): boolean;
}

/**
 * Parses one allowlist/selector entry. Accepted:
 * - a full MAC in any notation `normalizeMac` takes → exact match;
 * - three octets (`52:54:00`, `52-54-00`, `525400`) → the OUI, i.e. `52:54:00:*`;
 * - colon/dash separated octets where an octet may be `*` (any octets: zero or more, e.g. `52:54:00:*`,
 *   `*:ab:cd`) or contain `?` (one hex digit, e.g. `52:54:0?:*`).
 * Returns an error string for anything else, so a config file line can be reported and skipped.
 */
export function parseMacPattern(input: string): MacPattern | { error: string } {
  const source = input.trim();
  const lower = source.toLowerCase();
  if (lower === '') return { error: 'empty MAC pattern' };
  const exact = normalizeMac(lower);
  if (exact) return { source, kind: 'exact', matches: (mac) => mac === exact };
  if (/^[0-9a-f]{6}$/.test(lower) || /^[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){2}$/.test(lower)) {
    const oui = (
      /^[0-9a-f]{6}$/.test(lower) ? lower.match(/../g)! : lower.split(/[:-]/).map((o) => o.padStart(2, '0'))
    ).join(':');
    return { source, kind: 'oui', matches: (mac) => mac.startsWith(`${oui}:`) };
  }
  const parts = lower.split(/[:-]/);
  if (parts.length > 6 || !parts.every((p) => p === '*' || /^[0-9a-f?]{1,2}$/.test(p))) {
    return {
      error: `"${source}" is not a MAC, an OUI or a MAC pattern (octets in hex, * for any octets, ? for one hex digit)`,
    };
  }
  if (!parts.includes('*') && parts.length !== 6) {
    return {
      error: `"${source}" has ${parts.length} octets; a MAC has 6 (use * for the rest, e.g. ${parts.join(':')}:*)`,
    };
  }
  const want = parts.map((p) => (p === '*' ? p : p.padStart(2, '0')));
  return { source, kind: 'glob', matches: (mac) => globOctets(want, mac.split(':')) };
}

/** Octet glob: `*` spans zero or more whole octets, `?` one hex digit. At most 6 octets, so recursion is tiny. */
function globOctets(pat: readonly string[], octets: readonly string[]): boolean {
  if (pat.length === 0) return octets.length === 0;
  const [head, ...rest] = pat as [string, ...string[]];
  if (head === '*') {
    for (let skip = 0; skip <= octets.length; skip++) if (globOctets(rest, octets.slice(skip))) return true;
    return false;
  }
  const o = octets[0];
  if (o === undefined || !octetMatches(head, o)) return false;
  return globOctets(rest, octets.slice(1));
}

function octetMatches(pat: string, octet: string): boolean {
  return pat.length === octet.length && [...pat].every((c, i) => c === '?' || c === octet[i]);
}

/** Compiles a list of patterns; invalid entries are returned separately with their error. */
export function compileMacPatterns(entries: readonly string[]): {
  patterns: MacPattern[];
  errors: Array<{ entry: string; error: string }>;
} {
  const patterns: MacPattern[] = [];
  const errors: Array<{ entry: string; error: string }> = [];
  for (const entry of entries) {
    const p = parseMacPattern(entry);
    if ('error' in p) errors.push({ entry, error: p.error });
    else patterns.push(p);
  }
  return { patterns, errors };
}
