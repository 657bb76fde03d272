/**
 * The terminal form of a log event: one line — time, level, event name, message, then the other fields as
 * `key=value` (strings unquoted unless they hold spaces, objects and arrays as compact JSON, an error as
 * its message). pino-pretty's own multi-line object dump (6–20 lines an event) is hidden. JSON lines stay
 * the form for anything that is not a terminal (journald, files, pipes).
 */

/** Fields every line shows elsewhere (time, level) or that say nothing on a terminal. */
const HIDDEN = new Set(['time', 'level', 'pid', 'hostname', 'name', 'msg', 'event', 'v']);

/** `{ protocol, address, port }` (listening addresses) as `tftp 0.0.0.0:69`. */
function endpoint(v: unknown): string | undefined {
  const e = v as { protocol?: unknown; address?: unknown; port?: unknown } | null;
  if (!e || typeof e !== 'object' || typeof e.address !== 'string' || typeof e.port !== 'number') return undefined;
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return `${typeof e.protocol === 'string' ? `${e.protocol} ` : ''}${host}:${e.port}`;
}

function value(v: unknown): string {
  if (Array.isArray(v) && v.length > 0 && v.every((x) => endpoint(x) !== undefined))
    return JSON.stringify(v.map((x) => endpoint(x)).join(', '));
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (v !== null && typeof v === 'object') {
    const err = v as { type?: unknown; message?: unknown; stack?: unknown };
    if (typeof err.message === 'string' && typeof err.stack === 'string') return JSON.stringify(err.message);
    return JSON.stringify(v);
  }
  return String(v);
}

/** `files.mount disk source mounted plugin=source-disk mount=/ root=/srv/boot` (pino-pretty messageFormat). */
export function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const event = typeof log['event'] === 'string' ? `${log['event']} ` : '';
  const msg = log[messageKey] === undefined ? '' : String(log[messageKey]);
  const fields = Object.entries(log)
    .filter(([k, v]) => !HIDDEN.has(k) && k !== messageKey && v !== undefined)
    // `source` repeats `plugin` for most sources: once is enough.
    .filter(([k, v]) => !(k === 'source' && v === log['plugin']))
    .map(([k, v]) => `${k}=${value(v)}`);
  return `${event}${msg}${fields.length ? `  ${fields.join(' ')}` : ''}`;
}
