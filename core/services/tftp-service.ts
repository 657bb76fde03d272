import { createTftpHooks, type TftpHooks } from '../hooks/tftp.js';
import type { ListeningAddress } from '../hooks/server.js';
import type { ProtocolService, ServiceHost } from './types.js';
import { listenError } from '../errors.js';
import { injectTftp, type TftpInjectRequest, type TftpInjectResult } from '../tftp/inject.js';
import { createPxeCallbacks } from '../tftp/pxe-bridge.js';
import { TftpServer } from '../tftp/server.js';
import { LogLimiter } from '../util/log-limit.js';
import { ipv6ListenAddress } from './listen6.js';

export type { TftpInjectRequest, TftpInjectResult };

/**
 * The TFTP side of the server: owns `server.tftp.hooks` and the TFTP engine (core/tftp/), wired to the
 * boot sessions, admit, the file sources and boot events by core/tftp/pxe-bridge.ts.
 */
export class TftpService implements ProtocolService {
  readonly hooks: TftpHooks;
  readonly #server: ServiceHost;
  #engine: TftpServer | undefined;
  #listening = false;
  /** Set when a reload handed the engine on: settles when the transfers this service started are over. */
  #handedOver: Promise<void> | undefined;

  constructor(server: ServiceHost) {
    this.#server = server;
    this.hooks = createTftpHooks(server.runner);
  }

  /** The engine, made on first use (start, or inject on a server whose listener never started). */
  get #tftp(): TftpServer {
    if (!this.#engine) {
      const cfg = this.#server.config.tftp;
      const address6 = ipv6ListenAddress(this.#server.config, cfg, 'tftp');
      const log = this.#server.log.child({ protocol: 'tftp' });
      const limitedLog = new LogLimiter();
      this.#engine = new TftpServer(
        {
          port: cfg.port,
          ...(cfg.address ? { address: cfg.address } : {}),
          ...(address6 !== undefined ? { address6 } : {}),
          maxBlksize: cfg.maxBlksize,
          windowsizeCap: cfg.windowsizeCap,
          singlePort: cfg.singlePort,
          transport: cfg.transport,
          maxTransfers: cfg.maxTransfers,
          maxPerClient: cfg.maxPerClient,
          defaultTimeoutMs: cfg.timeoutMs,
          retries: cfg.retries,
          log,
          limitedLog,
        },
        createPxeCallbacks(this.#server, this.hooks, log, limitedLog),
      );
    }
    return this.#engine;
  }

  /**
   * Binds `config.tftp.port` (0 = ephemeral: the real port is in the result) on `address` and, when set or
   * DHCPv6 runs, `address6` (same port); `[]` when disabled.
   */
  async start(): Promise<ListeningAddress[]> {
    const cfg = this.#server.config.tftp;
    if (!cfg.enabled) return [];
    try {
      await this.#tftp.listen();
    } catch (err) {
      const cause = (err instanceof Error && err.cause instanceof Error ? err.cause : err) as NodeJS.ErrnoException & {
        address?: string;
      };
      throw listenError(cause, 'TFTP', cfg.port, cause.address ?? cfg.address);
    }
    this.#listening = true;
    return this.#tftp.bound.map((b) => ({ protocol: 'tftp' as const, address: b.address, port: b.port }));
  }

  /**
   * Takes over the listener of `prev` (the server this one replaces on a config reload): requests that
   * arrive from now on are planned with this service's hooks and the new limits; transfers running now
   * finish with the hooks, sources and file handles they started with (`prev.drained()`).
   */
  adopt(prev: TftpService): void {
    const engine = prev.#engine;
    if (!engine || !prev.#listening) return;
    const cfg = this.#server.config.tftp;
    engine.useCallbacks(createPxeCallbacks(this.#server, this.hooks, engine.log, engine.limitedLog));
    engine.retune({
      maxBlksize: cfg.maxBlksize,
      windowsizeCap: cfg.windowsizeCap,
      maxTransfers: cfg.maxTransfers,
      maxPerClient: cfg.maxPerClient,
      defaultTimeoutMs: cfg.timeoutMs,
      retries: cfg.retries,
    });
    prev.#handedOver = engine.settled();
    prev.#engine = undefined;
    prev.#listening = false;
    this.#engine = engine;
    this.#listening = true;
  }

  /** Settles when the transfers this service started are over (all of them, unless a reload handed the engine on). */
  drained(): Promise<void> {
    return this.#handedOver ?? this.#engine?.settled() ?? Promise.resolve();
  }

  /**
   * Runs one read request through the same plan (admit, hooks, resolve, negotiation), transfer state
   * machine and block source as the listener, with an in-memory client instead of a socket. Works
   * whether or not the listener is bound. Files over 64 MiB are refused (ERROR 3).
   */
  async inject(req: TftpInjectRequest): Promise<TftpInjectResult> {
    return injectTftp(this.#tftp, req);
  }

  /** Stop accepting, let running transfers finish for `graceMs`, then abort the rest (clients get ERROR 0). */
  async close(graceMs: number): Promise<void> {
    if (!this.#engine) return;
    // An engine made only for inject() never listened: nothing to stop, but its held-back log lines are due.
    if (!this.#listening) return this.#engine.limitedLog.flush();
    await this.#engine.close(graceMs);
    this.#listening = false;
  }

  /** True between start() and close(). */
  get listening(): boolean {
    return this.#listening;
  }

  /** Transfers running now (for status pages and tests). */
  get activeTransfers(): number {
    return this.#engine?.activeTransfers ?? 0;
  }
}
