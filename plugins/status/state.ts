import type { BootEvent, SessionStore } from 'pxekit';

export type Stage = 'dhcp' | 'tftp' | 'http' | 'done' | 'failed' | 'stalled';

/** Stages after which the client's clock stops (until a new DISCOVER or a new request). */
export const FINAL_STAGES: ReadonlySet<Stage> = new Set(['done', 'failed', 'stalled']);

/** One client as the status page shows it. Every string here may come from the network: escape it. */
export interface ClientView {
  /** MAC when known, else `ip:<address>`. */
  id: string;
  mac?: string;
  ip?: string;
  arch?: number;
  archName?: string;
  firmware?: string;
  stage: Stage;
  /** The stage a failed or stalled client stopped in. */
  failedIn?: Stage;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  lastEvent: string;
  /** Last path asked (TFTP/HTTP) or the boot file chosen (DHCP). */
  detail?: string;
  /** Why it failed or stalled (deny or error reason, the file that was missing, how long it was quiet). */
  reason?: string;
  /** The last request was for a file that is not there (path and answer); cleared by any later success. */
  miss?: string;
  /** The last step was a finished download: `done` after `doneAfterMs` of quiet. */
  transferred: boolean;
}

/** A denial or an error, for the "recent" lists. */
export interface Notice {
  time: number;
  type: string;
  protocol: string;
  mac?: string;
  ip?: string;
  plugin?: string;
  reason?: string;
  path?: string;
}

/** What one event changed. `renamedFrom`: a client first known by IP is now known by its MAC. */
export interface Change {
  client?: ClientView;
  renamedFrom?: string;
  denial?: Notice;
  error?: Notice;
}

/** The server the page is about: shown in its header. */
export interface ServerInfo {
  version: string;
  dhcpMode: string;
  /** `protocol address:port` per bound listener. */
  listeners: string[];
  /** When the server started listening (ms since the epoch); uptime is counted from it. */
  startedAt?: number;
  /** This instance's view of the cluster and its Redis link (with dhcp-cluster). */
  cluster?: ClusterInfo;
}

/** The part of dhcp-cluster's view the page shows. */
export interface ClusterInfo {
  id: string;
  mode: string;
  redis: boolean;
  members: string[];
  peers: Array<{ id: string; redis: boolean; mode: string; ageMs: number }>;
  link: { up: boolean; outages: number; downMs: number; dropped: number; servedFromCache: number };
}

export interface Snapshot {
  serverTime: number;
  server?: ServerInfo;
  clients: ClientView[];
  denials: Notice[];
  errors: Notice[];
}

const TRANSFER_DONE = new Set(['tftp.done', 'http.get']);

/** A file that is not there: an HTTP 404 or TFTP error 1. */
function isMiss(ev: BootEvent): boolean {
  const d = ev.data ?? {};
  if (ev.type === 'http.get') return d['status'] === 404;
  if (ev.type === 'tftp.error')
    return d['code'] === 1 || (typeof d['reason'] === 'string' && /not found/i.test(d['reason']));
  return false;
}

/** `/vmlinuz: HTTP 404` or `/grubx64.efi: TFTP error 1 (File not found)`. */
function missText(ev: BootEvent, path: string | undefined): string {
  const d = ev.data ?? {};
  const what = path ?? 'a file';
  if (ev.protocol === 'http') return `${what}: HTTP ${String(d['status'])} not found`;
  const reason = typeof d['reason'] === 'string' ? ` (${d['reason']})` : '';
  return `${what}: TFTP error ${String(d['code'] ?? 1)}${reason}`;
}

function str(v: unknown, max = 256): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || v.length === 0) return undefined;
  return v.length > max ? `${v.slice(0, max)}…` : v;
}

/** Bounded state behind the page: the most recent `maxClients` clients and two ring buffers. */
export class StatusState {
  readonly #clients = new Map<string, ClientView>();
  readonly #denials: Notice[] = [];
  readonly #errors: Notice[] = [];

  constructor(
    readonly opts: {
      maxClients: number;
      maxNotices: number;
      doneAfterMs: number;
      /** After a miss, this much quiet means the client gave up on that file: failed (default 15 s). */
      failAfterMissMs?: number;
      /** A client still booting that sends nothing for this long is stalled (default 120 s; 0 = never). */
      stallAfterMs?: number;
      sessions?: SessionStore;
      now?: () => number;
    },
  ) {}

  #now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  snapshot(): Snapshot {
    return {
      serverTime: this.#now(),
      clients: [...this.#clients.values()].reverse(),
      denials: [...this.#denials],
      errors: [...this.#errors],
    };
  }

  /** Applies one boot event; returns what changed (for incremental SSE updates). */
  apply(ev: BootEvent): Change {
    const out: Change = {};
    const d = ev.data ?? {};
    const path = str(d['path']);
    const reason = str(d['reason']) ?? str(d['message']);
    const mac = ev.mac ?? ev.session?.mac ?? (ev.ip ? this.opts.sessions?.byIp(ev.ip)?.mac : undefined);
    const ip = ev.ip ?? ev.session?.ip;
    if (ev.outcome === 'denied' || ev.outcome === 'error') {
      const n: Notice = {
        time: ev.time,
        type: ev.type,
        protocol: ev.protocol,
        ...(mac ? { mac } : {}),
        ...(ip ? { ip } : {}),
        ...(ev.plugin ? { plugin: ev.plugin } : {}),
        ...(reason ? { reason } : {}),
        ...(path ? { path } : {}),
      };
      const list = ev.outcome === 'denied' ? this.#denials : this.#errors;
      list.unshift(n);
      if (list.length > this.opts.maxNotices) list.length = this.opts.maxNotices;
      if (ev.outcome === 'denied') out.denial = n;
      else out.error = n;
    }
    if (ev.protocol === 'server' && !mac) return out;
    if (!mac && !ip) return out;
    const before = mac && ip && !this.#clients.has(mac) && this.#clients.has(`ip:${ip}`) ? `ip:${ip}` : undefined;
    const c = this.#client(mac, ip, ev.time, ev.protocol === 'tftp' || ev.protocol === 'http' ? ev.protocol : 'dhcp');
    if (before) out.renamedFrom = before;
    const s = ev.session;
    if (s?.arch !== undefined) c.arch = s.arch;
    const archName = s?.archName ?? str(d['archName']);
    if (archName) c.archName = archName;
    if (s?.firmware) c.firmware = s.firmware;
    if (ip) c.ip = ip;
    c.lastSeen = ev.time;
    c.lastEvent = ev.type;
    if (ev.protocol === 'tftp' || ev.protocol === 'http' || ev.protocol === 'dhcp') this.#advance(c, ev, reason);
    const file = str(d['bootFile']) ?? str(d['file']);
    if (path ?? file) c.detail = (path ?? file)!;
    const bytes = d['bytes'];
    if (
      ev.outcome === 'ok' &&
      typeof bytes === 'number' &&
      Number.isFinite(bytes) &&
      bytes > 0 &&
      ev.protocol !== 'dhcp'
    )
      c.bytes += bytes;
    c.transferred = ev.outcome === 'ok' && TRANSFER_DONE.has(ev.type);
    if (isMiss(ev)) c.miss = missText(ev, path);
    else if (ev.outcome === 'ok') delete c.miss;
    out.client = c;
    return out;
  }

  /**
   * Stage rules: `ok` moves the client to the event's protocol (and clears a failure); `info` does too
   * unless the client already failed or finished; `denied`, and TFTP/HTTP errors other than a plain
   * miss, fail it. A miss (HTTP 404, TFTP "file not found") is not a failure: pxelinux and iPXE probe
   * for optional files all the time. A new DISCOVER/OFFER after done/failed starts a new boot.
   */
  #advance(c: ClientView, ev: BootEvent, reason: string | undefined): void {
    const proto = ev.protocol as 'dhcp' | 'tftp' | 'http';
    const finished = c.stage === 'done' || c.stage === 'failed';
    if (
      FINAL_STAGES.has(c.stage) &&
      (ev.type === 'dhcp.discover' || ev.type === 'dhcp.offer' || ev.type === 'dhcp.proxy.offer')
    ) {
      c.firstSeen = ev.time;
      c.bytes = 0;
      c.stage = 'dhcp';
      delete c.reason;
      delete c.failedIn;
      delete c.miss;
      return;
    }
    if (ev.outcome === 'denied' || (ev.outcome === 'error' && proto !== 'dhcp' && !isMiss(ev))) {
      if (c.stage !== 'failed') c.failedIn = proto;
      c.stage = 'failed';
      if (reason) c.reason = reason;
    } else if (ev.outcome === 'ok' || (ev.outcome === 'info' && !finished)) {
      c.stage = proto;
      delete c.reason;
      delete c.failedIn;
    }
  }

  /**
   * Quiet clients still booting end here. Last step a finished download, quiet for `doneAfterMs`:
   * done. Last request a miss, quiet for `failAfterMissMs`: failed, the missing file as the reason
   * (a probe miss is followed by more requests at once; a kernel that is not there is not). Anything
   * else quiet for `stallAfterMs`: stalled, with how long and after what.
   */
  sweep(): ClientView[] {
    const now = this.#now();
    const failAfterMiss = this.opts.failAfterMissMs ?? 15_000;
    const stallAfter = this.opts.stallAfterMs ?? 120_000;
    const changed: ClientView[] = [];
    for (const c of this.#clients.values()) {
      if (FINAL_STAGES.has(c.stage)) continue;
      const quiet = now - c.lastSeen;
      if (c.transferred && quiet >= this.opts.doneAfterMs) {
        c.stage = 'done';
      } else if (c.miss && quiet >= failAfterMiss) {
        c.failedIn = c.stage;
        c.stage = 'failed';
        c.reason = `${c.miss}; nothing asked for since`;
      } else if (!c.transferred && stallAfter > 0 && quiet >= stallAfter) {
        c.failedIn = c.stage;
        c.stage = 'stalled';
        c.reason = `no request for ${Math.round(quiet / 1000)} s after ${c.lastEvent}${c.detail ? ` ${c.detail}` : ''}`;
      } else {
        continue;
      }
      changed.push(c);
    }
    return changed;
  }

  #client(mac: string | undefined, ip: string | undefined, time: number, initial: Stage): ClientView {
    const id = mac ?? `ip:${ip}`;
    let c = this.#clients.get(id);
    if (!c && mac && ip) {
      // The client was first seen by IP only (TFTP before any DHCP we saw): adopt that entry.
      const byIp = this.#clients.get(`ip:${ip}`);
      if (byIp) {
        this.#clients.delete(byIp.id);
        byIp.id = mac;
        c = byIp;
      }
    }
    if (c) {
      this.#clients.delete(id);
    } else {
      c = { id, stage: initial, bytes: 0, firstSeen: time, lastSeen: time, lastEvent: '', transferred: false };
    }
    if (mac) c.mac = mac;
    this.#clients.set(id, c);
    while (this.#clients.size > this.opts.maxClients) {
      const oldest = this.#clients.keys().next().value;
      if (oldest === undefined) break;
      this.#clients.delete(oldest);
    }
    return c;
  }
}
