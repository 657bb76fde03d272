import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { BootSession } from '../session/types.js';
import type { HookRunner } from './runner.js';

export type Protocol = 'dhcp' | 'tftp' | 'http';

/** The question `admit` answers: may this client boot from us at all? */
export interface AdmitRequest {
  protocol: Protocol;
  /** Lowercase colon MAC when known (always in DHCP; from the session or URL in TFTP/HTTP). */
  mac?: string;
  ip?: string;
  session?: BootSession;
  /** The path asked for (TFTP/HTTP). */
  path?: string;
}

/** `{ deny }` refuses the client everywhere; `{ allow }` stops later taps and admits. */
export type AdmitResult = { deny: string } | { allow: true; reason?: string };

/** One step of one boot: what audit logs and metrics count. Names are listed in docs/log-events.md. */
export interface BootEvent {
  /** e.g. `dhcp.offer`, `dhcp.ack`, `tftp.done`, `tftp.probe`, `http.get`, `admit.deny`. */
  type: string;
  protocol: Protocol | 'server';
  time: number;
  mac?: string;
  ip?: string;
  session?: BootSession;
  outcome: 'ok' | 'denied' | 'error' | 'probe' | 'info';
  /** Plugin that decided, when a plugin did. */
  plugin?: string;
  /** Event-specific fields: path, bytes, durationMs, bootFile, reason, code ... */
  data: Record<string, unknown>;
}

export interface ListeningAddress {
  protocol: 'dhcp' | 'pxe' | 'tftp' | 'http';
  address: string;
  port: number;
}

/**
 * The variables a per-host template sees (`{{mac}}`, `{{server.baseUrl}}`, `{{profile.kernel}}`…):
 * see `templateVars` in pxekit/kit for the keys the core fills in.
 */
export type TemplateVars = Record<string, unknown>;

/** Hooks owned by the server itself. */
export interface ServerHooks {
  /** Async set-up before any listener binds (open an S3 client, clone a repo). A rejection aborts start. */
  ready: AsyncSeriesHook<[]>;
  /** Every listener is bound; receives their addresses. */
  listening: AsyncParallelHook<[ReadonlyArray<ListeningAddress>]>;
  /** The server is closing: release resources (flush files, close clients). Runs after listeners close. */
  close: AsyncSeriesHook<[]>;
  /**
   * One allow/deny decision per client, asked by DHCP, TFTP and HTTP alike. First non-undefined wins;
   * no answer means admitted. A deny means: no DHCP offer, TFTP access violation, HTTP 403.
   */
  admit: AsyncSeriesBailHook<[AdmitRequest], AdmitResult | undefined>;
  /** Every step of every boot, for observers (audit, metrics, status). Taps must be fast and not throw. */
  bootEvent: SyncHook<[BootEvent]>;
  /**
   * The variables of a per-host template (templates, host-profiles) for one session: each tap gets the
   * variables so far and returns them with its own added (host-profiles adds `profile`). Runs each time a
   * template renders, so keep taps quick and synchronous; a throw fails that render (HTTP 500, TFTP error).
   *
   * ```ts
   * server.hooks.templateVars.tap('rack-labels', (vars, session) => ({ ...vars, rack: session.labels['rack'] ?? null }));
   * ```
   */
  templateVars: SyncWaterfallHook<[TemplateVars, BootSession]>;
}

export function createServerHooks(runner: HookRunner): ServerHooks {
  return {
    ready: runner.register('server.ready', new AsyncSeriesHook<[]>([])),
    listening: runner.register(
      'server.listening',
      new AsyncParallelHook<[ReadonlyArray<ListeningAddress>]>(['addresses']),
    ),
    close: runner.register('server.close', new AsyncSeriesHook<[]>([])),
    admit: runner.register(
      'server.admit',
      new AsyncSeriesBailHook<[AdmitRequest], AdmitResult | undefined>(['request']),
    ),
    bootEvent: runner.register('server.bootEvent', new SyncHook<[BootEvent]>(['event'])),
    templateVars: runner.register(
      'server.templateVars',
      new SyncWaterfallHook<[TemplateVars, BootSession]>(['vars', 'session']),
    ),
  };
}
