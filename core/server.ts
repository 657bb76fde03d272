import type { Logger } from 'pino';
import { ConfigError } from './config/issues.js';
import type { PxeConfig } from './config/types.js';
import { hookTags, PxeError } from './errors.js';
import { FilesService } from './files/service.js';
import { HookRunner, hookIsIdle } from './hooks/runner.js';
import {
  createServerHooks,
  type AdmitRequest,
  type AdmitResult,
  type BootEvent,
  type ListeningAddress,
  type ServerHooks,
} from './hooks/server.js';
import { createLogger, flushLogger } from './log.js';
import { applyPlugins, isPlugin, type PluginOrigin } from './plugin.js';
import { DhcpService } from './services/dhcp-service.js';
import { Dhcp6Service } from './services/dhcp6-service.js';
import { HttpService } from './services/http-service.js';
import { logNativeFaults } from './services/native-faults.js';
import { TftpService } from './services/tftp-service.js';
import type { ProtocolService } from './services/types.js';
import { reloadIssues, type ReloadSide } from './reload-limits.js';
import { SessionStore } from './session/store.js';
import { ProvidedRegistry } from './provides.js';

export interface ServerOptions {
  /** Use this logger instead of creating one from `config.log`. */
  logger?: Logger;
  /** The config file the config came from, for error messages. */
  configFile?: string;
  /** Per plugin, where it was listed (set by the config loader). */
  pluginOrigins?: PluginOrigin[];
  /** Folder for relative paths in plugin options; default the cwd (the config loader passes the file's folder). */
  baseDir?: string;
  /**
   * A started server this one replaces (a config reload; `pxekit start` does it on SIGHUP). It shares
   * that server's logger and boot sessions, and `start()` takes over its listeners and leases instead of
   * binding: new requests go to this server's plugins, while the old server finishes the transfers and
   * packets it has in flight, then closes its plugins. A config that changes what a reload keeps
   * (listeners, lease store: core/reload-limits.ts) is refused with PXE_ERR_RELOAD_REFUSED, and the old
   * server runs on untouched.
   */
  replaces?: PxeServer;
}

type State = 'created' | 'starting' | 'started' | 'closing' | 'closed';

/**
 * A pxekit server: owns the hooks and the listeners, nothing else. All behaviour comes from plugins,
 * applied (validated, then `apply`) in the constructor, in config order.
 */
export class PxeServer {
  readonly config: PxeConfig;
  readonly log: Logger;
  readonly runner: HookRunner;
  readonly hooks: ServerHooks;
  readonly files: FilesService;
  readonly sessions: SessionStore;
  readonly dhcp: DhcpService;
  /** DHCPv6 and IPv6 netboot (`dhcp6.mode`); shares `dhcp.hooks` and the lease store. */
  readonly dhcp6: Dhcp6Service;
  readonly tftp: TftpService;
  readonly http: HttpService;
  readonly configFile: string | undefined;
  /**
   * What plugins provided (`ctx.provide`), by name: `server.provided.get('intents')` is boot-intents'
   * store when it is configured. Plugins read it with `ctx.use`, which checks their dependencies.
   */
  readonly provided = new ProvidedRegistry();
  /** Folder relative paths in plugin options resolve against. */
  readonly baseDir: string;
  #state: State = 'created';
  #listening: ListeningAddress[] = [];
  #started: ProtocolService[] = [];
  #eventSink: ((event: BootEvent) => void) | undefined;
  #inject: { dhcp: DhcpService['inject']; tftp: TftpService['inject']; http: HttpService['inject'] } | undefined;
  readonly #replaces: PxeServer | undefined;
  /** Set on a replaced server: settles once its in-flight work is over and its plugins are closed. */
  #retiring: Promise<void> | undefined;
  /** The retirement of the server this one replaced, while it lasts (close() waits for it). */
  #predecessor: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Stops logging the native addon's run-time faults (set while started). */
  #stopFaultLog: () => void = () => {};

  constructor(config: PxeConfig, opts: ServerOptions = {}) {
    this.config = config;
    this.configFile = opts.configFile;
    this.baseDir = opts.baseDir ?? process.cwd();
    this.#replaces = opts.replaces;
    this.log =
      opts.logger ??
      opts.replaces?.log ??
      createLogger({
        level: config.log.level,
        ...(config.log.pretty !== undefined ? { pretty: config.log.pretty } : {}),
      });
    this.runner = new HookRunner({
      asyncTimeoutMs: config.hooks.timeoutMs,
      // Set-up and tear-down may clone repositories or flush files: give them longer than packet hooks.
      timeouts: {
        'server.ready': Math.max(120_000, config.hooks.timeoutMs),
        'server.close': Math.max(30_000, config.hooks.timeoutMs),
        'server.listening': 30_000,
      },
    });
    this.hooks = createServerHooks(this.runner);
    this.files = new FilesService(this.runner);
    this.sessions =
      opts.replaces?.sessions ??
      new SessionStore({ ttlMs: config.sessions.ttlSeconds * 1000, maxSessions: config.sessions.max });
    this.dhcp = new DhcpService(this);
    this.dhcp6 = new Dhcp6Service(this);
    this.tftp = new TftpService(this);
    this.http = new HttpService(this);
    const plugins = config.plugins.map((p, i) => {
      if (!isPlugin(p)) {
        throw new ConfigError(
          [
            {
              ...(opts.configFile ? { file: opts.configFile } : {}),
              path: `plugins[${i}]`,
              message: 'is not a plugin instance',
              found: JSON.stringify(p),
              fix:
                'createServer() takes plugin instances (e.g. sourceDisk({ root })); to name plugins as strings ' +
                'use loadConfig()/createServerFromConfig() or a config file',
            },
          ],
          'PXE_ERR_PLUGIN_INVALID',
        );
      }
      return p;
    });
    applyPlugins(this, plugins, opts.pluginOrigins);
  }

  get state(): State {
    return this.#state;
  }

  /** Addresses bound by start(). */
  get listening(): ReadonlyArray<ListeningAddress> {
    return this.#listening;
  }

  /**
   * Runs `ready` taps, binds every enabled listener (or takes over those of the server given as
   * `replaces`), then runs `listening` taps.
   */
  async start(): Promise<ReadonlyArray<ListeningAddress>> {
    if (this.#state !== 'created')
      throw new PxeError('PXE_ERR_SERVER_STATE', `start() called while ${this.#state}`, {
        fix: 'create a new server to start again',
      });
    this.#state = 'starting';
    this.runner.seal();
    if (this.#replaces) return this.#takeOver(this.#replaces);
    try {
      await this.hooks.ready.promise();
      for (const svc of [this.dhcp, this.dhcp6, this.tftp, this.http] as ProtocolService[]) {
        this.#listening.push(...(await svc.start()));
        this.#started.push(svc);
      }
      this.#state = 'started';
      this.#stopFaultLog = logNativeFaults(this.log);
      this.log.info({ event: 'server.listening', listening: this.#listening }, 'pxekit listening');
      await this.hooks.listening.promise(this.#listening);
      return this.#listening;
    } catch (err) {
      await this.#stopServices(0);
      this.#state = 'closed';
      throw err;
    }
  }

  /**
   * Stops accepting, lets in-flight transfers finish within `shutdownTimeoutMs`, runs `close` taps, flushes
   * logs. On a replaced server: settles once it has finished its in-flight work and closed its plugins.
   */
  close(): Promise<void> {
    this.#closing ??= this.#retiring ?? this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    await this.#stopServices(this.config.shutdownTimeoutMs);
    this.#stopFaultLog();
    await this.#closePlugins();
    // Its transfers ended with the listeners; wait for its plugins too (an audit log flushing).
    await this.#predecessor;
    this.#state = 'closed';
    this.log.info({ event: 'server.closed' }, 'pxekit closed');
    await flushLogger(this.log);
  }

  async #closePlugins(): Promise<void> {
    try {
      await this.hooks.close.promise();
    } catch (err) {
      this.log.error({ event: 'server.close.error', err, ...hookTags(err) }, 'a plugin failed while closing');
    }
  }

  /**
   * Takes over from `old` (see `ServerOptions.replaces`). Before the switch anything may fail and `old`
   * runs on untouched; the switch itself is the services adopting the listeners, after which `old` retires
   * in the background.
   */
  async #takeOver(old: PxeServer): Promise<ReadonlyArray<ListeningAddress>> {
    try {
      if (old.#state !== 'started')
        throw new PxeError('PXE_ERR_SERVER_STATE', `cannot replace a server that is ${old.#state}`, {
          fix: 'replace the server that is running (the one the last start() or reload started)',
        });
      const issues = reloadIssues(old.#reloadSide(), this.#reloadSide(), this.configFile);
      if (issues.length) throw new ConfigError(issues, 'PXE_ERR_RELOAD_REFUSED');
      this.dhcp6.prepare();
      await this.hooks.ready.promise();
    } catch (err) {
      // Release what `ready` taps opened (a Redis link, a watcher): nothing else will.
      if (!(err instanceof ConfigError) && !(err instanceof PxeError && err.code === 'PXE_ERR_SERVER_STATE'))
        await this.#closePlugins();
      this.#state = 'closed';
      throw err;
    }
    old.#state = 'closing';
    // The store first, then the sockets (with a plugin's store all in this tick): no packet reaches the old config
    // once the store's handover has started waiting for what the old one still has in flight.
    this.dhcp.adoptStore(old.dhcp, () => old.dhcp6.drained());
    this.dhcp6.adopt(old.dhcp6);
    await this.dhcp.adopt(old.dhcp);
    this.tftp.adopt(old.tftp);
    this.http.adopt(old.http);
    old.#stopFaultLog();
    this.#stopFaultLog = logNativeFaults(this.log);
    this.sessions.limit({ ttlMs: this.config.sessions.ttlSeconds * 1000, maxSessions: this.config.sessions.max });
    this.#listening = [...old.#listening];
    const successor = new Map<ProtocolService, ProtocolService>([
      [old.dhcp, this.dhcp],
      [old.dhcp6, this.dhcp6],
      [old.tftp, this.tftp],
      [old.http, this.http],
    ]);
    this.#started = old.#started.splice(0).map((s) => successor.get(s)!);
    const retiring = old.#retire();
    old.#retiring = retiring;
    this.#predecessor = retiring;
    void retiring.finally(() => {
      if (this.#predecessor === retiring) this.#predecessor = undefined;
    });
    this.#state = 'started';
    this.log.info(
      { event: 'config.reloaded', file: this.configFile, plugins: this.config.plugins.map(pluginName) },
      'config reloaded: new requests use it',
    );
    try {
      await this.hooks.listening.promise(this.#listening);
    } catch (err) {
      this.log.error({ event: 'server.listening.error', err, ...hookTags(err) }, 'a plugin failed on listening');
    }
    return this.#listening;
  }

  /** A replaced server: waits for the work it has in flight, then closes its plugins. */
  async #retire(): Promise<void> {
    await Promise.all([
      this.dhcp.drained(),
      this.dhcp6.drained(),
      this.tftp.drained(),
      this.http.drained(),
      this.#predecessor,
    ]);
    await this.#closePlugins();
    this.#state = 'closed';
    this.log.info(
      { event: 'config.retired', file: this.configFile },
      'the previous config finished its in-flight work and closed its plugins',
    );
  }

  #reloadSide(): ReloadSide {
    return {
      config: this.config,
      leaseStoreProvider: this.provided.get('leaseStore') ? this.provided.providerOf('leaseStore') : undefined,
    };
  }

  async #stopServices(graceMs: number): Promise<void> {
    const started = this.#started.splice(0).reverse();
    await Promise.all(
      started.map((s) =>
        s
          .close(graceMs)
          .catch((err: unknown) => this.log.error({ event: 'server.close.error', err }, 'listener failed to close')),
      ),
    );
  }

  /**
   * Asks `admit` whether a client may boot. A plugin failure denies (fail closed: an allowlist that
   * crashed must not let everyone in). Emits `admit.deny` for every denial.
   */
  async admit(req: AdmitRequest): Promise<{ allowed: boolean; reason?: string; plugin?: string }> {
    // No admit taps (no allowlist): everyone is admitted, without a hook call per request and packet.
    if (hookIsIdle(this.hooks.admit)) return { allowed: true };
    let result: AdmitResult | undefined;
    try {
      result = await this.hooks.admit.promise(req);
    } catch (err) {
      this.log.error(
        { event: 'admit.error', err, ...hookTags(err), mac: req.mac, ip: req.ip },
        'admit hook failed; denying',
      );
      result = { deny: `admit failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    const plugin = this.runner.decidedBy(result);
    if (result && 'deny' in result) {
      if (req.session) req.session.denied = result.deny;
      this.log.info(
        {
          event: 'admit.deny',
          protocol: req.protocol,
          mac: req.mac,
          ip: req.ip,
          path: req.path,
          reason: result.deny,
          plugin,
        },
        'client denied',
      );
      this.emit({
        type: 'admit.deny',
        protocol: req.protocol,
        outcome: 'denied',
        ...(req.mac ? { mac: req.mac } : {}),
        ...(req.ip ? { ip: req.ip } : {}),
        ...(req.session ? { session: req.session } : {}),
        ...(plugin ? { plugin } : {}),
        data: { reason: result.deny, path: req.path },
      });
      return { allowed: false, reason: result.deny, ...(plugin ? { plugin } : {}) };
    }
    return { allowed: true, ...(result?.reason ? { reason: result.reason } : {}), ...(plugin ? { plugin } : {}) };
  }

  /**
   * Whether anything receives boot events: `bootEvent` taps, a call interceptor, or a redirect. Hot
   * paths check this before building event data. Not `isUsed()`: the runner's own interceptor
   * (core/hooks/runner.ts) makes that always true.
   */
  get observesBootEvents(): boolean {
    if (this.#eventSink) return true;
    return !hookIsIdle(this.hooks.bootEvent);
  }

  /**
   * Sends boot events to `sink` instead of the `bootEvent` taps. `pxekit explain` records what a
   * boot would emit without letting observers act on it (a one-shot intent must not be used up).
   */
  redirectBootEvents(sink: (event: BootEvent) => void): void {
    this.#eventSink = sink;
  }

  /** Publishes a boot event to `bootEvent` taps; an observer that throws is logged, never propagated. */
  emit(event: Omit<BootEvent, 'time'> & { time?: number }): void {
    if (!this.observesBootEvents) return;
    const full: BootEvent = { time: Date.now(), ...event };
    if (this.#eventSink) {
      this.#eventSink(full);
      return;
    }
    try {
      this.hooks.bootEvent.call(full);
    } catch (err) {
      this.log.error({ event: 'server.bootevent.error', err, ...hookTags(err) }, 'a bootEvent observer failed');
    }
  }

  /** Drive the server without sockets (tests, plugin authors, `pxekit explain`). */
  get inject() {
    this.#inject ??= {
      dhcp: this.dhcp.inject.bind(this.dhcp),
      tftp: this.tftp.inject.bind(this.tftp),
      http: this.http.inject.bind(this.http),
    };
    return this.#inject;
  }
}

function pluginName(p: unknown): string {
  return typeof p === 'object' && p !== null && 'name' in p ? String(p.name) : String(p);
}

/** Re-exported from core/errors.ts, where the protocol folders import it. */
export { hookTags };
