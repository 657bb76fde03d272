import type { Logger } from 'pino';
import { ConfigError } from './config/issues.js';
import type { PxeConfig } from './config/types.js';
import { hookTags, PxeError } from './errors.js';
import { FilesService } from './files/service.js';
import { HookRunner } from './hooks/runner.js';
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
import { TftpService } from './services/tftp-service.js';
import type { ProtocolService } from './services/types.js';
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

  constructor(config: PxeConfig, opts: ServerOptions = {}) {
    this.config = config;
    this.configFile = opts.configFile;
    this.baseDir = opts.baseDir ?? process.cwd();
    this.log =
      opts.logger ??
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
    this.sessions = new SessionStore({ ttlMs: config.sessions.ttlSeconds * 1000, maxSessions: config.sessions.max });
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
              fix: 'createServer() takes plugin instances (e.g. sourceDisk({ root })); to name plugins as strings use loadConfig()/createServerFromConfig() or a config file',
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

  /** Runs `ready` taps, binds every enabled listener, then runs `listening` taps. */
  async start(): Promise<ReadonlyArray<ListeningAddress>> {
    if (this.#state !== 'created')
      throw new PxeError('PXE_ERR_SERVER_STATE', `start() called while ${this.#state}`, {
        fix: 'create a new server to start again',
      });
    this.#state = 'starting';
    this.runner.seal();
    try {
      await this.hooks.ready.promise();
      for (const svc of [this.dhcp, this.dhcp6, this.tftp, this.http] as ProtocolService[]) {
        this.#listening.push(...(await svc.start()));
        this.#started.push(svc);
      }
      this.#state = 'started';
      this.log.info({ event: 'server.listening', listening: this.#listening }, 'pxekit listening');
      await this.hooks.listening.promise(this.#listening);
      return this.#listening;
    } catch (err) {
      await this.#stopServices(0);
      this.#state = 'closed';
      throw err;
    }
  }

  /** Stops accepting, lets in-flight transfers finish within `shutdownTimeoutMs`, runs `close` taps, flushes logs. */
  async close(): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'closing';
    await this.#stopServices(this.config.shutdownTimeoutMs);
    try {
      await this.hooks.close.promise();
    } catch (err) {
      this.log.error({ event: 'server.close.error', err, ...hookTags(err) }, 'a plugin failed while closing');
    }
    this.#state = 'closed';
    this.log.info({ event: 'server.closed' }, 'pxekit closed');
    await flushLogger(this.log);
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
    const hook = this.hooks.bootEvent as unknown as { taps: unknown[]; interceptors: object[] };
    return (
      hook.taps.length > 0 ||
      hook.interceptors.some((i) => Object.keys(i).some((k) => k !== 'register' && k !== 'name' && k !== 'context'))
    );
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

/** Re-exported from core/errors.ts, where the protocol folders import it. */
export { hookTags };
