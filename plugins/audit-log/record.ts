import type { BootEvent } from 'pxekit';
import { jsonSafe } from './json-safe.js';

/**
 * One audit record before it is chained: who (client), what was asked, what was decided and by whom,
 * how much moved and how long it took. `seq`, `lost`, `prev` and `hash` are added by the chain writer.
 */
export interface AuditRecord {
  time: string;
  type: string;
  protocol: string;
  outcome: string;
  mac?: string;
  ip?: string;
  arch?: number;
  archName?: string;
  firmware?: string;
  /** What the client asked: a path (TFTP/HTTP) or a DHCP message type. */
  asked?: string;
  /** What the server decided: a boot file/URL, a served path, a deny reason. */
  decision?: string;
  /** The plugin that decided (admit, selectBoot, script, source). */
  plugin?: string;
  bytes?: number;
  durationMs?: number;
  /** The rest of the event's data, JSON-safe. */
  data?: Record<string, unknown>;
}

/** Fields lifted to the top level of a record (so they are not repeated under `data`). */
const LIFTED = new Set(['path', 'messageType', 'request', 'bootFile', 'file', 'url', 'bytes', 'durationMs']);

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Builds the record of one boot event. Cheap and total: runs on the packet path, never throws. */
export function recordFromEvent(ev: BootEvent): AuditRecord {
  const d = ev.data ?? {};
  const s = ev.session;
  const mac = ev.mac ?? s?.mac;
  const ip = ev.ip ?? s?.ip;
  const asked = str(d['path']) ?? str(d['messageType']) ?? str(d['request']);
  const decision =
    str(d['bootFile']) ??
    str(d['file']) ??
    str(d['url']) ??
    (ev.outcome === 'denied' || ev.outcome === 'error' ? str(d['reason']) : undefined);
  // Transfers name no decider; the source (or script producer) that served them is the plugin that answered.
  const plugin = ev.plugin ?? str(d['source']) ?? str(d['script']);
  const bytes = num(d['bytes']);
  const durationMs = num(d['durationMs']);
  const rest: Record<string, unknown> = {};
  let hasRest = false;
  for (const [k, v] of Object.entries(d)) {
    if (LIFTED.has(k)) continue;
    rest[k] = v;
    hasRest = true;
  }
  const data = hasRest ? (jsonSafe(rest) as Record<string, unknown>) : undefined;
  return {
    time: new Date(Number.isFinite(ev.time) ? ev.time : Date.now()).toISOString(),
    type: String(ev.type),
    protocol: String(ev.protocol),
    outcome: String(ev.outcome),
    ...(mac ? { mac } : {}),
    ...(ip ? { ip } : {}),
    ...(s?.arch !== undefined ? { arch: s.arch } : {}),
    ...(s?.archName ? { archName: s.archName } : {}),
    ...(s?.firmware ? { firmware: s.firmware } : {}),
    ...(asked !== undefined ? { asked } : {}),
    ...(decision !== undefined ? { decision } : {}),
    ...(plugin ? { plugin } : {}),
    ...(bytes !== undefined ? { bytes } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(data && Object.keys(data).length ? { data } : {}),
  };
}
