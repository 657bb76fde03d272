/**
 * Turns a requested path into a safe virtual path (`/a/b`), or says why it is refused. One function for
 * TFTP, HTTP and every source, so a traversal cannot slip through one protocol's rules.
 * - backslashes become `/` (Windows-made pxelinux/WDS configs use them; dnsmasq converts too);
 * - `//` collapses, `.` segments drop; a `..` segment anywhere is refused (never resolved upward);
 * - NUL and other control characters are refused;
 * - a leading `/` is the tree's root, never the host's.
 * Percent-decoding is the caller's job (HTTP decodes once before calling; TFTP names are literal).
 */
export type NormalizedPath = { ok: true; path: string } | { ok: false; reason: string };

export function normalizeVirtualPath(requested: string): NormalizedPath {
  if (requested.length === 0) return { ok: false, reason: 'empty path' };
  if (requested.length > 4096) return { ok: false, reason: 'path too long' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(requested)) return { ok: false, reason: 'control character in path' };
  const parts: string[] = [];
  for (const seg of requested.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return { ok: false, reason: 'parent directory segment (..) in path' };
    parts.push(seg);
  }
  return { ok: true, path: `/${parts.join('/')}` };
}

/** `/a/b/c` is inside mount `/a` (or `/`): returns the rest (`b/c`), or undefined. */
export function stripMount(path: string, mount: string): string | undefined {
  const m = mount === '/' ? '' : mount.replace(/\/+$/, '');
  if (m === '') return path.slice(1);
  if (path === m) return '';
  return path.startsWith(`${m}/`) ? path.slice(m.length + 1) : undefined;
}
