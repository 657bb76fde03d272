/** A small bounded map with least-recently-used eviction and an optional time to live per entry. */
export class LruMap<K, V> {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #map = new Map<K, { value: V; expires: number }>();

  /** `ttlMs` 0 = entries never expire (only evicted by size). */
  constructor(max: number, ttlMs = 0) {
    if (!(max >= 1)) throw new Error('LruMap needs max >= 1');
    this.#max = max;
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires !== 0 && e.expires <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expires: this.#ttlMs > 0 ? Date.now() + this.#ttlMs : 0 });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#map.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
