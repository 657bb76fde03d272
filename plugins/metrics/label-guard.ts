/**
 * Bounds the values one label may take: event types and codes come from code, but a third-party plugin
 * could emit anything, and every distinct label value is a new time series kept forever.
 */
export class LabelGuard {
  readonly #seen = new Set<string>();
  constructor(
    readonly max: number,
    // Names as pxekit gives them: `source-disk#ipxe` (a second instance), `@scope/pxekit-plugin-x`.
    readonly pattern = /^[A-Za-z0-9_.:@/#+-]{1,128}$/,
  ) {}

  /** `value` when it is well-formed and within the bound, else `other`. */
  value(v: unknown): string {
    const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v : '';
    if (!s || !this.pattern.test(s)) return s ? 'other' : 'unknown';
    if (this.#seen.has(s)) return s;
    if (this.#seen.size >= this.max) return 'other';
    this.#seen.add(s);
    return s;
  }
}
