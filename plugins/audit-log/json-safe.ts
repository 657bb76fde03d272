/**
 * Turns boot-event data into plain JSON: events may carry Buffers, Dates, Maps, bigints or deep
 * objects, and a record must never fail to serialise (or grow without bound) because of one field.
 */
const MAX_DEPTH = 4;
const MAX_KEYS = 64;
const MAX_ITEMS = 64;
const MAX_STRING = 2048;
const MAX_BUFFER_HEX = 512;

export function jsonSafe(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (Buffer.isBuffer(value)) {
    const hex = value.subarray(0, MAX_BUFFER_HEX / 2).toString('hex');
    return value.length * 2 > MAX_BUFFER_HEX ? `${hex}…` : hex;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Error)
    return {
      name: value.name,
      message: value.message,
      ...('code' in value ? { code: jsonSafe((value as { code: unknown }).code, depth + 1) } : {}),
    };
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => jsonSafe(v, depth + 1) ?? null);
  if (value instanceof Map)
    return jsonSafe(Object.fromEntries([...value.entries()].slice(0, MAX_KEYS).map(([k, v]) => [String(k), v])), depth);
  if (value instanceof Set) return jsonSafe([...value], depth);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (n++ >= MAX_KEYS) break;
      const safe = jsonSafe(v, depth + 1);
      if (safe !== undefined) out[k] = safe;
    }
    return out;
  }
  return String(value);
}
