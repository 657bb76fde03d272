import { createDhcpHooks, type DhcpHooks } from '../hooks/dhcp.js';
import type { ListeningAddress } from '../hooks/server.js';
import type { ProtocolService, ServiceHost } from './types.js';
import { PxeError } from '../errors.js';
import { decode, encode } from '../dhcp/codec.js';
import { FullMode } from '../dhcp/full.js';
import { localAddresses, servedAddresses, type LocalAddress } from '../dhcp/interfaces.js';
import { Allocator } from '../dhcp/leases/allocator.js';
import { MemoryLeaseStore } from '../dhcp/leases/memory-store.js';
import { buildPools, type Pool } from '../dhcp/leases/pool.js';
import type { LeaseStore } from '../dhcp/leases/store.js';
import { DhcpListener } from '../dhcp/listener.js';
import type { DhcpPacket } from '../dhcp/packet.js';
import { DhcpPipeline, type DhcpStats, type Incoming, type Prepared, type ReplyTo } from '../dhcp/pipeline.js';

export type { LeaseStore, Lease, LeaseState, LeaseWrite } from '../dhcp/leases/store.js';

/** Options of `server.dhcp.inject()`. */
export interface DhcpInjectOptions {
  /** Which port the packet "arrived" on: `dhcp` (67, default) or `bootserver` (4011). */
  port?: 'dhcp' | 'bootserver';
  /** Sender; default 0.0.0.0:68 (a client without an address). */
  source?: { address: string; port: number };
  /** The local address/interface it arrived on; default: inferred as for a socket bound to 0.0.0.0. */
  local?: { address?: string; interface?: string };
}

/** One reply `inject()` produced: the packet as it would go on the wire, its bytes, and where to. */
export interface DhcpInjectReply {
  packet: DhcpPacket;
  buffer: Buffer;
  to: ReplyTo;
}

/** The pipeline hands over bytes (what the sockets send); the packet is decoded on first read. */
class InjectReply implements DhcpInjectReply {
  #packet: DhcpPacket | undefined;

  constructor(
    readonly buffer: Buffer,
    readonly to: ReplyTo,
  ) {}

  get packet(): DhcpPacket {
    this.#packet ??= decode(this.buffer);
    return this.#packet;
  }
}

/**
 * The DHCP side of the server: owns `server.dhcp.hooks`, the sockets (core/dhcp/listener.ts), the
 * per-packet pipeline (core/dhcp/pipeline.ts) and, in full mode, the lease store and allocator.
 */
export class DhcpService implements ProtocolService {
  readonly hooks: DhcpHooks;
  readonly #server: ServiceHost;
  #store: LeaseStore | undefined;
  #pipeline: DhcpPipeline | undefined;
  #listener: DhcpListener | undefined;
  #allocator: Allocator | undefined;
  #pools: Pool[] = [];
  #addresses: { all: LocalAddress[]; served: LocalAddress[] } | undefined;
  #loading: Promise<void> | undefined;
  #storeLoading: Promise<void> | undefined;
  /** Packets this service's pipeline is answering now (a reload waits for them before closing plugins). */
  #inFlight = 0;
  #drainWaiters: (() => void)[] = [];
  /** After a reload with a plugin's store: the previous store is closed, and this one loaded, before any packet is answered. */
  #storeHandover: Promise<void> | undefined;

  constructor(server: ServiceHost) {
    this.#server = server;
    this.hooks = createDhcpHooks(server.runner);
  }

  /**
   * The lease store in use: what a plugin provided as `leaseStore` (lease-file, lease-redis), else the
   * memory store. Read when the DHCP service is set up, after every plugin applied.
   */
  get leaseStore(): LeaseStore {
    this.#store ??= this.#server.provided.get('leaseStore') ?? new MemoryLeaseStore();
    return this.#store;
  }

  /**
   * Loads the lease store once, for whichever family needs it first (DHCPv4 full mode, DHCPv6 full
   * mode: one store holds both); after a reload, once the previous server closed its store. Closed by `close()`.
   */
  loadLeaseStore(): Promise<void> {
    const handover = this.#storeHandover;
    if (!handover) return this.#openStore();
    return handover.then(() => {
      // Without a DHCPv4 allocator to sync (#handoverDone), the handover ends here.
      if (!this.#allocator && this.#storeHandover === handover) this.#storeHandover = undefined;
      return this.#openStore();
    });
  }

  #openStore(): Promise<void> {
    this.#storeLoading ??= this.leaseStore.load().catch((err: unknown) => {
      this.#storeLoading = undefined;
      throw err;
    });
    return this.#storeLoading;
  }

  /** Packet counters (received, decode errors, dropped, replies). */
  get stats(): DhcpStats {
    return this.#setup().stats;
  }

  /** Binds port 67 (and 4011 in proxy mode); `[]` when `dhcp.mode` is `off`. Ports 0 are ephemeral. */
  async start(): Promise<ListeningAddress[]> {
    const cfg = this.#server.config.dhcp;
    if (cfg.mode === 'off') return [];
    const pipeline = this.#setup();
    await this.#load();
    const log = this.#server.log.child({ protocol: 'dhcp' });
    this.#listener = new DhcpListener({
      port: cfg.port,
      pxePort: cfg.mode === 'proxy' ? cfg.pxePort : undefined,
      addresses: this.#addresses!.served,
      log,
      onPacket: (inc) => this.#handle(pipeline, inc),
    });
    const bound = await this.#listener.listen();
    log.info(
      {
        event: 'dhcp.listening',
        mode: cfg.mode,
        ports: bound.map((b) => b.port),
        transport: this.#listener.transport,
        addresses: this.#addresses!.served.map((a) => `${a.interface}:${a.address}`),
      },
      `DHCP ${cfg.mode} mode listening`,
    );
    return bound;
  }

  /**
   * Takes over the lease store of `prev` (the server this one replaces on a config reload), at once and before
   * any listener changes hands: the core's memory store is handed over as it is; a plugin's store (lease-file,
   * lease-redis) takes over once the previous one has finished its packets — this family's and `alsoUsing`'s,
   * the DHCPv6 side sharing the store — and closed (a lease file has one writer); `loadLeaseStore()` waits for it.
   */
  adoptStore(prev: DhcpService, alsoUsing: () => Promise<void> = () => Promise.resolve()): void {
    const ownStore = this.#server.provided.get('leaseStore');
    if (!ownStore && prev.#storeLoading) {
      this.#store = prev.leaseStore;
      this.#storeLoading = prev.#storeLoading;
      prev.#storeLoading = undefined;
    } else if (prev.#storeLoading) {
      this.#storeHandover = Promise.all([prev.drained(), alsoUsing()])
        .then(() => prev.#closeStore())
        .catch((err: unknown) =>
          this.#server.log.error(
            { event: 'dhcp.store.error', err, store: prev.leaseStore.name },
            'the previous lease store failed to close',
          ),
        );
    }
  }

  /**
   * Takes over the sockets of `prev` (after `adoptStore`): packets that arrive from now on go through this
   * service's pipeline and hooks; `prev` finishes the ones it is answering (`drained()`). With a plugin's
   * store, packets arriving before it has taken over wait for it.
   */
  async adopt(prev: DhcpService): Promise<void> {
    const listener = prev.#listener;
    if (!listener) return;
    const pipeline = this.#setup();
    this.#addresses = prev.#addresses;
    // The memory store is read into the new allocator before the switch; a plugin's store after it.
    if (!this.#storeHandover) await this.#load();
    prev.#listener = undefined;
    this.#listener = listener;
    listener.usePacketHandler((inc) => this.#handle(pipeline, inc));
    if (!this.#storeHandover) return;
    try {
      await this.#handoverDone();
    } catch (err) {
      // Each packet retries the load (#handle); say now why none is answered.
      this.#server.log.error(
        { event: 'dhcp.store.error', err, store: this.leaseStore.name },
        'the lease store failed to load after the reload: DHCP answers nothing until it loads',
      );
    }
  }

  /** Settles when no packet is being answered by this service's pipeline (new ones may still come). */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((done) => this.#drainWaiters.push(done));
  }

  #handle(pipeline: DhcpPipeline, inc: Incoming): Promise<Prepared | undefined> {
    this.#inFlight++;
    const out = this.#storeHandover ? this.#handoverDone().then(() => pipeline.handle(inc)) : pipeline.handle(inc);
    out.then(this.#settle, this.#settle);
    return out;
  }

  readonly #settle = (): void => {
    if (--this.#inFlight === 0) for (const done of this.#drainWaiters.splice(0)) done();
  };

  /** The previous store closed and this one loaded (retried by the next packet when loading failed). */
  async #handoverDone(): Promise<void> {
    const handover = this.#storeHandover;
    if (handover) await handover;
    await this.#load();
    if (this.#storeHandover === handover) this.#storeHandover = undefined;
  }

  async #closeStore(): Promise<void> {
    if (!this.#storeLoading) return;
    this.#storeLoading = undefined;
    await this.leaseStore.close();
  }

  /** Runs one packet through the same pipeline as the sockets; resolves with the reply (0 or 1). */
  async inject(packet: Buffer | DhcpPacket, opts: DhcpInjectOptions = {}): Promise<DhcpInjectReply[]> {
    if (this.#server.config.dhcp.mode === 'off')
      throw new PxeError('PXE_ERR_SERVER_STATE', 'dhcp.mode is off', { fix: 'set dhcp.mode to proxy or full' });
    const pipeline = this.#setup();
    await this.#load();
    const buffer = Buffer.isBuffer(packet) ? packet : encode(packet);
    const kind = opts.port ?? 'dhcp';
    const source = opts.source ?? { address: '0.0.0.0', port: kind === 'bootserver' ? 4011 : this.#clientPort() };
    const out = await pipeline.handle({ buffer, kind, source, ...(opts.local ? { local: opts.local } : {}) });
    return out ? [new InjectReply(out.buffer, out.to)] : [];
  }

  async close(graceMs: number): Promise<void> {
    await this.#listener?.close(graceMs);
    this.#listener = undefined;
    this.#loading = undefined;
    await this.#closeStore();
  }

  #clientPort(): number {
    return this.#port() + 1;
  }

  /** The bound port after start; before, the configured one (0 counts as the standard 67). */
  #port(): number {
    return this.#listener?.port('dhcp') ?? (this.#server.config.dhcp.port || 67);
  }

  /** Pools, allocator, addresses and pipeline, made once (start or first inject). */
  #setup(): DhcpPipeline {
    if (this.#pipeline) return this.#pipeline;
    const { config, log } = this.#server;
    const cfg = config.dhcp;
    const all = localAddresses();
    let served: LocalAddress[];
    try {
      served = servedAddresses(all, config.interfaces, cfg.address);
    } catch (err) {
      throw new PxeError('PXE_ERR_CONFIG_INVALID', `interfaces: ${(err as Error).message}`, {
        fix: 'name existing interfaces (ip -br addr) or their IPv4 addresses',
      });
    }
    this.#addresses = { all, served };
    let full: FullMode | undefined;
    if (cfg.mode === 'full') {
      this.#pools = buildPools(cfg.pools);
      const own = [cfg.serverAddress, ...served.map((a) => a.address)].filter((a): a is string => !!a);
      this.#allocator = new Allocator(this.leaseStore, this.#pools, own);
      full = new FullMode({ pools: this.#pools, allocator: this.#allocator, config: cfg, hooks: this.hooks });
    }
    this.#pipeline = new DhcpPipeline({
      server: this.#server,
      hooks: this.hooks,
      log: log.child({ protocol: 'dhcp' }),
      config: cfg,
      addresses: () => this.#addresses!,
      port: () => this.#port(),
      full,
    });
    return this.#pipeline;
  }

  /** Loads the lease store once (concurrent callers share the same promise). */
  #load(): Promise<void> {
    const allocator = this.#allocator;
    if (!allocator) return Promise.resolve();
    this.#loading ??= (async () => {
      try {
        await this.loadLeaseStore();
        await allocator.sync(this.#pools);
      } catch (err) {
        this.#loading = undefined;
        if (err instanceof PxeError) throw err;
        throw new PxeError(
          'PXE_ERR_LEASE_STORE',
          `lease store "${this.leaseStore.name}" failed to load: ${(err as Error).message}`,
          { cause: err },
        );
      }
    })();
    return this.#loading;
  }
}
