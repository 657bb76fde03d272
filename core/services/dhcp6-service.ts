/**
 * The DHCPv6 side of the server (RFC 8415, RFC 5970): the sockets of dhcp6-sockets.ts ([::]:547, and the
 * PXE boot server on [serverAddress]:4011 in boot-only mode), a per-message path that reuses the IPv4 boot
 * machinery (classify, receive, admit, selectBoot, sessions, boot events) through a stand-in context, and the
 * protocol logic of core/dhcp6 with the same lease store as IPv4. Relay-forward layers are unwrapped and the
 * answer goes back in Relay-reply layers with the Interface-ID echoed.
 */
import type { Logger } from 'pino';
import type { ListeningAddress } from '../hooks/server.js';
import type { Dhcp6Config } from '../dhcp6/config.js';
import type { DhcpService } from './dhcp-service.js';
import type { ProtocolService, ServiceHost } from './types.js';

import { HookError, PxeError } from '../errors.js';
import { LogLimiter } from '../util/log-limit.js';
import { recordDecision } from '../dhcp/boot-reply.js';
import { classify } from '../dhcp/pxe.js';
import {
  decode,
  encode,
  Dhcp6DecodeError,
  isRelayType,
  MessageType,
  messageTypeName,
  HOP_COUNT_LIMIT,
} from '../dhcp6/codec.js';
import { duidHex } from '../dhcp6/duid.js';
import { Bindings6 } from '../dhcp6/leases6.js';
import { ipv6Links } from '../dhcp6/links.js';
import { findOption, replyPort, unwrapRelays, wrapRelayReplies } from '../dhcp6/options.js';
import { poolContains, type Pool6 } from '../dhcp6/pool6.js';
import { respond } from '../dhcp6/responder.js';
import type { Dhcp6Option, Dhcp6Packet, Dhcp6RelayMessage } from '../dhcp6/types.js';
import type { DhcpContext } from '../hooks/dhcp.js';
import { bootOptions6, clientMac, standInPacket } from './dhcp6-client.js';
import { prepareDhcp6, type Setup6 } from './dhcp6-setup.js';
import { Dhcp6Sockets, type Dhcp6Port } from './dhcp6-sockets.js';
import { TftpSourceWatch } from './dhcp6-tftp-source.js';
import { ipv6ListenAddress } from './listen6.js';

/** What the DHCPv6 service needs of the server: the service host, the dhcp6 config, the DHCP hooks and lease store. */
export type Dhcp6ServiceHost = Omit<ServiceHost, 'config'> & {
  readonly config: ServiceHost['config'] & { dhcp6: Dhcp6Config };
  readonly dhcp: Pick<DhcpService, 'hooks' | 'leaseStore' | 'loadLeaseStore'>;
};

/** A reply ready for the wire. `address` carries the link's zone (`fe80::1%eth0`) when link-local. */
export interface Dhcp6Outgoing {
  buffer: Buffer;
  to: { address: string; port: number };
  event: string;
}

export interface Dhcp6Stats {
  received: number;
  decodeErrors: number;
  dropped: number;
  replies: number;
}

export class Dhcp6Service implements ProtocolService {
  readonly stats: Dhcp6Stats = { received: 0, decodeErrors: 0, dropped: 0, replies: 0 };
  readonly #server: Dhcp6ServiceHost;
  #sockets: Dhcp6Sockets | undefined;
  /** Messages being answered now (a reload waits for them before closing the previous config's plugins). */
  #inFlight = 0;
  #drainWaiters: (() => void)[] = [];
  #setup: Setup6 | undefined;
  #log: Logger | undefined;
  readonly #tftpSource = new TftpSourceWatch();
  readonly #limited = new LogLimiter();

  constructor(server: Dhcp6ServiceHost) {
    this.#server = server;
  }

  get #cfg() {
    return this.#server.config.dhcp6;
  }

  /** Server DUID in use (after start or the first inject). */
  get serverDuid(): Buffer {
    return this.#prepare().duid;
  }

  async start(): Promise<ListeningAddress[]> {
    if (this.#cfg.mode === 'off') return [];
    const s = this.#prepare();
    if (s.bindings) await this.#server.dhcp.loadLeaseStore();
    const sockets = new Dhcp6Sockets(
      {
        port: this.#cfg.port,
        bootServer: this.#cfg.mode === 'boot-only' ? { address: s.address, port: this.#cfg.pxePort } : undefined,
        links: s.links.map((l) => l.name),
        log: this.#logger(),
      },
      this.#onPacket,
    );
    const bound = await sockets.listen();
    this.#sockets = sockets;
    this.#logger().info(
      {
        event: 'dhcp6.listening',
        mode: this.#cfg.mode,
        port: bound[0]!.port,
        ...(bound[1] ? { pxePort: bound[1].port } : {}),
        links: s.links.map((l) => l.name),
        serverAddress: s.address,
      },
      `DHCPv6 ${this.#cfg.mode} listening`,
    );
    this.#watchTftpSource(s);
    return bound;
  }

  /**
   * Takes over the sockets of `prev` (the server this one replaces on a config reload): datagrams from now on
   * are answered with this service's config and hooks, `prev` finishes those it is answering (`drained()`).
   * Bindings live in the lease store, which `DhcpService.adopt` hands over first (call it before this).
   */
  adopt(prev: Dhcp6Service): void {
    const sockets = prev.#sockets;
    if (!sockets) return;
    prev.#sockets = undefined;
    const s = this.#prepare();
    // The same identity: clients in the middle of an exchange hold prev's DUID (random when no link has a MAC).
    const kept = prev.#setup;
    this.#setup = {
      ...s,
      // On the store DhcpService.adopt just handed over (prepare() may have run before it).
      bindings: s.bindings ? new Bindings6(this.#server.dhcp.leaseStore, s.pools) : undefined,
      ...(kept ? { duid: kept.duid, links: kept.links, address: kept.address } : {}),
    };
    this.#sockets = sockets;
    sockets.usePacketHandler(this.#onPacket);
  }

  /** Works out pools and addresses now: a reload does it before the switch, so a mistake refuses the reload. */
  prepare(): void {
    if (this.#cfg.mode !== 'off') this.#prepare();
  }

  /** Settles when no message is being answered by this service (new ones may still come). */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((done) => this.#drainWaiters.push(done));
  }

  async close(): Promise<void> {
    const sockets = this.#sockets;
    this.#sockets = undefined;
    await sockets?.close();
  }

  readonly #onPacket = (buf: Buffer, source: { address: string; port: number }, via: Dhcp6Port) => {
    this.#inFlight++;
    const out = this.handle(buf, source, via);
    void out.finally(() => {
      if (--this.#inFlight === 0) for (const done of this.#drainWaiters.splice(0)) done();
    });
    return out;
  };

  /** Runs one message through the same path as the socket (tests, tools). */
  async inject(packet: Buffer | Dhcp6Packet, source = { address: 'fe80::1', port: 546 }): Promise<Dhcp6Outgoing[]> {
    if (this.#cfg.mode === 'off')
      throw new PxeError('PXE_ERR_SERVER_STATE', 'dhcp6.mode is off', { fix: 'set dhcp6.mode to full or boot-only' });
    if (this.#prepare().bindings) await this.#server.dhcp.loadLeaseStore();
    const out = await this.handle(Buffer.isBuffer(packet) ? packet : encode(packet), source);
    return out ? [out] : [];
  }

  /** One datagram in, at most one reply out. Never rejects: failures are logged and dropped. */
  async handle(
    buf: Buffer,
    source: { address: string; port: number },
    via: Dhcp6Port = 'server',
  ): Promise<Dhcp6Outgoing | undefined> {
    this.stats.received++;
    const log = this.#logger();
    let packet: Dhcp6Packet;
    try {
      packet = decode(buf);
    } catch (err) {
      this.stats.decodeErrors++;
      this.stats.dropped++;
      log.debug(
        {
          event: 'dhcp6.decode.error',
          reason: err instanceof Dhcp6DecodeError ? err.reason : 'unknown',
          detail: (err as Error).message,
          source,
        },
        'malformed DHCPv6 message dropped',
      );
      return undefined;
    }
    const un =
      packet.msgType === MessageType.RELAY_FORW || !isRelayType(packet.msgType) ? unwrapRelays(packet) : undefined;
    if (!un || isServerType(un.message.msgType))
      return this.#drop(log, `not a client message (${messageTypeName(packet.msgType)})`);
    if (un.relays.some((r) => r.hopCount > HOP_COUNT_LIMIT)) return this.#drop(log, 'relay hop count over the limit');
    if (via === 'bootserver' && un.relays.length > 0)
      return this.#drop(log, 'a relayed message on the boot-server port');
    try {
      if (this.#prepare().bindings) await this.#server.dhcp.loadLeaseStore(); // after a reload: the handed-over store
      return await this.#answer(un.message, un.relays, source, via);
    } catch (err) {
      this.stats.dropped++;
      const tags = err instanceof HookError ? { hook: err.hook, plugin: err.plugin } : undefined;
      const line = tags ? { event: 'dhcp6.hook.error', err, ...tags } : { event: 'dhcp6.error', err };
      const msg = tags ? 'a plugin failed; DHCPv6 message dropped' : 'DHCPv6 request failed; dropped';
      this.#limited.error(log, line, msg, tags ? `${tags.plugin}:${tags.hook}` : ''); // one a second per kind
      return undefined;
    }
  }

  async #answer(
    msg: Extract<Dhcp6Packet, { kind: 'message' }>,
    relays: Dhcp6RelayMessage[],
    source: { address: string; port: number },
    via: Dhcp6Port,
  ): Promise<Dhcp6Outgoing | undefined> {
    const s = this.#prepare();
    const server = this.#server;
    const hooks = server.dhcp.hooks;
    const { mac, macSource } = clientMac(msg, relays, source.address);
    const cid = findOption(msg.options, 'client-id');
    const duid = cid ? duidHex(cid.duid) : '';
    const packet = standInPacket(msg, mac);
    const log = this.#logger().child({ xid: hex(msg.transactionId), mac, dhcp6: messageTypeName(msg.msgType) });
    let client = classify(packet);
    const ctx: DhcpContext = {
      packet,
      messageType: msg.msgType,
      kind: 'dhcp',
      mode: this.#cfg.mode === 'full' ? 'full' : 'proxy',
      source,
      local: { address: s.address },
      client,
      session: server.sessions.upsert(mac),
      log,
      ipv6: { message: msg, relays, duid, macSource },
    };
    client = hooks.classify.call(client, ctx);
    ctx.client = client;
    ctx.session = server.sessions.upsert(mac, {
      ...(client.arch !== undefined ? { arch: client.arch } : {}),
      archName: client.archName,
      firmware:
        client.firmware === 'bios' || client.firmware === 'uefi' || client.firmware === 'uefi-http'
          ? client.firmware
          : 'unknown',
      ...(client.vendorClass ? { vendorClass: client.vendorClass } : {}),
      userClass: client.userClass,
      isIpxe: client.isIpxe,
      labels: { ...ctx.session.labels, ...client.labels },
    });
    const dropped = await hooks.receive.promise(ctx);
    if (dropped) return this.#drop(log, dropped.drop);
    const admitted = await server.admit({ protocol: 'dhcp', mac, session: ctx.session });
    if (!admitted.allowed) return this.#drop(log, `denied: ${admitted.reason ?? 'admit'}`);

    let plugin: string | undefined;
    let decided: Promise<Dhcp6Option[]> | undefined;
    const bootOptions = (): Promise<Dhcp6Option[]> =>
      (decided ??= (async () => {
        const spec = await hooks.selectBoot.promise(ctx);
        if (!spec) return [];
        plugin = spec.decidedBy ?? server.runner.decidedBy(spec);
        ctx.session.boot = recordDecision(spec, plugin);
        return bootOptions6(ctx.session.boot, client, s.address);
      })());
    const inner = relays[relays.length - 1];
    const link = inner && inner.linkAddress !== '::' ? inner.linkAddress : undefined;
    const pool = link ? s.pools.find((p) => poolContains(p, link)) : this.#poolOnLink(s, source.address);
    const res = await respond(
      msg,
      { mac: macSource === 'unknown' ? undefined : mac },
      {
        serverDuid: s.duid,
        mode: this.#cfg.mode === 'full' ? 'full' : 'boot-only',
        rapidCommit: this.#cfg.rapidCommit,
        bindings: s.bindings,
        pool,
        infoOptions: this.#infoOptions(),
        bootOptions,
        now: () => Date.now(),
      },
    );
    if ('ignore' in res) return this.#drop(log, res.ignore);
    const addresses = res.addresses;
    const bound = res.event === 'dhcp6.reply' && addresses.length > 0;
    if (bound) ctx.session = server.sessions.upsert(mac, { ip: addresses[0]! });
    const bootUrl = 'reply' in res ? findOption(res.reply.options, 'bootfile-url')?.url : undefined;
    if (bootUrl?.startsWith('tftp://')) this.#watchTftpSource(s);
    const data = {
      xid: hex(msg.transactionId),
      duid,
      macSource,
      addresses,
      arch: client.arch,
      archName: client.archName,
      ...(bootUrl ? { bootFile: bootUrl } : {}),
      relayed: relays.length > 0,
      ...(via === 'bootserver' ? { bootServer: true } : {}),
    };
    log.info({ event: res.event, ...data, plugin }, `${res.event} ${addresses.join(',')}`);
    if (server.observesBootEvents)
      server.emit({
        type: res.event,
        protocol: 'dhcp',
        outcome: 'ok',
        mac,
        ...(ctx.session.ip ? { ip: ctx.session.ip } : {}),
        session: ctx.session,
        ...(plugin ? { plugin } : {}),
        data,
      });
    if (!('reply' in res)) return undefined;
    this.stats.replies++;
    const to = { address: source.address, port: replyPort(relays, source.port, this.#cfg.port || 547) };
    return { buffer: encode(wrapRelayReplies(res.reply, relays)), to, event: res.event };
  }

  /** TFTP's IPv6 side on `::` beside a second global address: firmware drops its answers (dhcp6-tftp-source.ts). */
  #watchTftpSource(s: Setup6): void {
    const tftp = this.#server.config.tftp;
    if (!tftp.enabled || ipv6ListenAddress(this.#server.config, tftp, 'tftp') !== '::') return;
    const only = this.#cfg.interfaces ?? this.#server.config.interfaces;
    this.#tftpSource.check(Date.now(), () => ipv6Links(only), s.address, this.#logger(), tftp);
  }

  #drop(log: Logger, reason: string): undefined {
    this.stats.dropped++;
    if (log.isLevelEnabled('debug')) log.debug({ event: 'dhcp6.drop', reason }, `DHCPv6 message dropped: ${reason}`);
    return undefined;
  }

  #infoOptions(): Dhcp6Option[] {
    const out: Dhcp6Option[] = [];
    if (this.#cfg.dns.length > 0) out.push({ kind: 'dns-servers', addresses: this.#cfg.dns });
    if (this.#cfg.domainSearch.length > 0) out.push({ kind: 'domain-list', domains: this.#cfg.domainSearch });
    return out;
  }

  /** A client on the link: the pool whose prefix holds a global address of the link it came in on. */
  #poolOnLink(s: Setup6, source: string): Pool6 | undefined {
    const zone = source.split('%')[1];
    const link = zone ? s.links.find((l) => l.name === zone) : undefined;
    const addrs = link ? link.global : s.links.flatMap((l) => l.global);
    return (
      s.pools.find((p) => addrs.some((a) => poolContains(p, a))) ?? (s.pools.length === 1 ? s.pools[0] : undefined)
    );
  }

  #logger(): Logger {
    this.#log ??= this.#server.log.child({ protocol: 'dhcp6' });
    return this.#log;
  }

  #prepare(): Setup6 {
    this.#setup ??= prepareDhcp6(this.#cfg, this.#server.config.interfaces, () => this.#server.dhcp.leaseStore);
    return this.#setup;
  }
}

function isServerType(t: number): boolean {
  return (
    t === MessageType.ADVERTISE ||
    t === MessageType.REPLY ||
    t === MessageType.RECONFIGURE ||
    t === MessageType.RELAY_REPL
  );
}

function hex(xid: number): string {
  return `0x${xid.toString(16).padStart(6, '0')}`;
}
