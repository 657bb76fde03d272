/** Content types for the files a network boot fetches; anything else is a byte stream. */
const TYPES: Record<string, string> = {
  ipxe: 'text/plain; charset=utf-8',
  cfg: 'text/plain; charset=utf-8',
  conf: 'text/plain; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  sh: 'text/plain; charset=utf-8',
  menu: 'text/plain; charset=utf-8',
  json: 'application/json',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  html: 'text/html; charset=utf-8',
  efi: 'application/octet-stream',
  kpxe: 'application/octet-stream',
  kkpxe: 'application/octet-stream',
  pxe: 'application/octet-stream',
  lkrn: 'application/octet-stream',
  iso: 'application/octet-stream',
  img: 'application/octet-stream',
  bin: 'application/octet-stream',
  wim: 'application/octet-stream',
  sdi: 'application/octet-stream',
  gz: 'application/gzip',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  squashfs: 'application/octet-stream',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** Content type by the last extension of a virtual path (`/boot/vmlinuz` has none: octet-stream). */
export function contentTypeFor(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_CONTENT_TYPE;
  return TYPES[base.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}
