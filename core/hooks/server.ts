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

// docs/hooks.md is generated from the TSDoc of the hooks in core/hooks/ (`npm run docs:hooks`): each hook says
// when it runs (`@when`), what a tap's result means (`@returns`), what happens when a tap fails (`@onError`) and
// shows a short `@example`; its arguments and kind come from its type. A test fails when the page is out of date.

/** Hooks owned by the server itself: start, stop, admission, boot events and template variables. */
export interface ServerHooks {
  /**
   * Async set-up before any listener binds: open clients, clone repositories, load files.
   *
   * @when Once in `server.start()`, after every plugin's `apply()` and before any socket is bound.
   * @returns Ignored; start-up waits for every tap.
   * @onError A rejection or a timeout (120 s) aborts `start()` with that error; nothing was bound.
   * @example
   * ```ts
   * server.hooks.ready.tapPromise('my-plugin', async () => {
   *   table = JSON.parse(await readFile(options.file, 'utf8'));
   * });
   * ```
   */
  ready: AsyncSeriesHook<[]>;
  /**
   * Every listener is bound; receives their addresses (ports are real even when the config said 0).
   *
   * @when Once in `server.start()`, after every listener is bound.
   * @returns Ignored.
   * @onError A rejection aborts `start()`: the listeners are closed again and `start()` rejects with it.
   * @example
   * ```ts
   * server.hooks.listening.tapPromise('my-plugin', async (addresses) => {
   *   const tftp = addresses.find((a) => a.protocol === 'tftp');
   *   log.info({ event: 'my-plugin.ready', port: tftp?.port }, 'serving');
   * });
   * ```
   */
  listening: AsyncParallelHook<[ReadonlyArray<ListeningAddress>]>;
  /**
   * The server is closing: release resources (flush files, close clients).
   *
   * @when Once in `server.close()`, after the listeners stopped and in-flight transfers finished (or
   *   `shutdownTimeoutMs` passed).
   * @returns Ignored; `close()` waits for every tap (at most 30 s).
   * @onError Logged (`server.close.error`); taps after the failing one do not run, and `close()` completes.
   * @example
   * ```ts
   * server.hooks.close.tapPromise('my-plugin', async () => {
   *   await writer.flush();
   *   await client.quit();
   * });
   * ```
   */
  close: AsyncSeriesHook<[]>;
  /**
   * One allow/deny decision per client, asked by DHCP, TFTP and HTTP alike.
   *
   * @when Before a protocol serves a client: each DHCP request, TFTP read and HTTP boot file or script.
   * @returns `{ deny: 'reason' }` refuses the client: DHCP sends nothing, TFTP answers error 2 (access
   *   violation), HTTP answers 403; every denial is logged (`admit.deny`) and emitted as a boot event.
   *   `{ allow: true }` admits and stops later taps; `undefined` passes to the next tap; no answer at all
   *   admits.
   * @onError Logged (`admit.error`) and the client is denied (fail closed).
   * @example
   * ```ts
   * server.hooks.admit.tapPromise('lab-only', async (req) => {
   *   if (req.mac && !req.mac.startsWith('52:54:00:')) return { deny: 'not a lab machine' };
   *   return undefined;
   * });
   * ```
   */
  admit: AsyncSeriesBailHook<[AdmitRequest], AdmitResult | undefined>;
  /**
   * Every step of every boot, for observers (audit, metrics, status page). Event types are listed in
   * docs/log-events.md.
   *
   * @when Synchronously, each time a protocol or plugin emits a boot event (`dhcp.offer`, `tftp.done`,
   *   `http.get`, `admit.deny`…). Keep taps fast.
   * @returns Ignored.
   * @onError Logged (`server.bootevent.error`), never propagated to the protocol; observers tapped after the
   *   failing one miss that event.
   * @example
   * ```ts
   * server.hooks.bootEvent.tap('counter', (event) => {
   *   if (event.type === 'tftp.done') done.inc({ arch: String(event.session?.arch ?? 'unknown') });
   * });
   * ```
   */
  bootEvent: SyncHook<[BootEvent]>;
  /**
   * The variables of a per-host template (templates, host-profiles' scripts and configs) for one session.
   *
   * @when Each time a per-host template renders, after the core filled in its variables (`mac`, `ip`,
   *   `arch`, `labels`, `boot`, `server.baseUrl`…; `templateVars` in `pxekit/kit`).
   * @returns The variables with the tap's own added (host-profiles adds `profile`, the matched profile).
   *   Templates compile in strict mode, so add a key for every session (null when unknown).
   * @onError The render fails: HTTP 500, TFTP error.
   * @example
   * ```ts
   * server.hooks.templateVars.tap('rack-labels', (vars, session) => ({
   *   ...vars,
   *   rack: session.labels['rack'] ?? null,
   * }));
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
