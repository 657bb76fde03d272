/**
 * Glob-like matching for selector values (vendor class, arch name, labels): `*` any run of characters,
 * `?` one character, everything else literal. Whole-string match, case-sensitive (option 60 is).
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = [...pattern]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|/]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 's');
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** True when `value` matches `pattern`; a pattern without `*`/`?` is plain equality. */
export function globMatch(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (!/[*?]/.test(pattern)) return pattern === value;
  return globToRegExp(pattern).test(value);
}
