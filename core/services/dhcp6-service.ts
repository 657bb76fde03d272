/**
 * The DHCPv6 side of the server (RFC 8415, RFC 5970): one UDP socket on [::]:547 that joins
 * ff02::1:2 on each served link, a per-message path that reuses the IPv4 boot machinery (classify,
 * receive, admit, selectBoot, sessions, boot events) through a stand-in context, and the protocol
 * logic of core/dhcp6 with the same lease store as IPv4. Relay-forward layers are unwrapped and the
 * answer goes back in Relay-reply layers with the Interface-ID echoed.
 */
import dgram from 'node:dgram';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ListeningAddress } from '../hooks/server.js';
import type { Dhcp6Config } from '../dhcp6/config.js';
import type { DhcpService } from './dhcp-service.js';
import type { ProtocolService, ServiceHost } from './types.js';

/** What the DHCPv6 service needs of the server: the service host, the dhcp6 config and the DHCP hooks and lease store. */
export type Dhcp6ServiceHost = Omit<ServiceHost, 'config'> & {
  readonly config: ServiceHost['config'] & { dhcp6: Dhcp6Config };
  readonly dhcp: Pick<DhcpService, 'hooks' | 'leaseStore' | 'loadLeaseStore'>;
};
import { HookError, PxeError, listenError } from '../errors.js';
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
import { duidHex, parseDuidHex } from '../dhcp6/duid.js';
import { Bindings6 } from '../dhcp6/leases6.js';
import { ipv6Links, type Link } from '../dhcp6/links.js';
import { findOption, unwrapRelays } from '../dhcp6/options.js';
import { buildPools6, poolContains, type Pool6 } from '../dhcp6/pool6.js';
import { respond } from '../dhcp6/responder.js';
import type { Dhcp6Option, Dhcp6Packet, Dhcp6RelayMessage } from '../dhcp6/types.js';
import type { DhcpContext } from '../hooks/dhcp.js';
import { bootOptions6, clientMac, standInPacket } from './dhcp6-client.js';
import { TftpSourceWatch } from './dhcp6-tftp-source.js';
import { ipv6ListenAddress } from './listen6.js';

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

/** What start (or the first inject) works out once: pools, bindings, server DUID, links, URL address. */
interface Setup6 {
  pools: Pool6[];
  bindings: Bindings6 | undefined;
  duid: Buffer;
  links: Link[];
  address: string;
}

export class Dhcp6Service implements ProtocolService {
  readonly stats: Dhcp6Stats = { received: 0, decodeErrors: 0, dropped: 0, replies: 0 };
  readonly #server: Dhcp6ServiceHost;
  #socket: dgram.Socket | undefined;
  #setup: Setup6 | undefined;
  #log: Logger | undefined;
  readonly #limited = new LogLimiter();
  readonly #tftpSource = new TftpSourceWatch();

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
    const socket = dgram.createSocket({ type: 'udp6', reuseAddr: true });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, 'DHCPv6', this.#cfg.port, '[::]')));
      socket.bind(this.#cfg.port, '::', () => resolve());
    });
    for (const link of s.links) {
      try {
        socket.addMembership('ff02::1:2', `::%${link.name}`);
      } catch (err) {
        this.#logger().warn({ event: 'dhcp6.join.error', interface: link.name, err }, 'cannot join ff02::1:2');
      }
    }
    socket.on('error', (err) =>
      this.#limited.error(this.#logger(), { event: 'dhcp6.socket.error', err }, 'DHCPv6 socket error'),
    );
    socket.on('message', (buf, rinfo) => {
      void this.handle(buf, { address: rinfo.address, port: rinfo.port }).then((out) => {
        if (out) socket.send(out.buffer, out.to.port, out.to.address);
      });
    });
    const port = socket.address().port;
    this.#logger().info(
      {
        event: 'dhcp6.listening',
        mode: this.#cfg.mode,
        port,
        links: s.links.map((l) => l.name),
        serverAddress: s.address,
      },
      `DHCPv6 ${this.#cfg.mode} listening`,
    );
    this.#watchTftpSource(s);
    return [{ protocol: 'dhcp', address: '::', port }];
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.#limited.flush();
  }

  /** Runs one message through the same path as the socket (tests, tools). */
  async inject(packet: Buffer | Dhcp6Packet, source = { address: 'fe80::1', port: 546 }): Promise<Dhcp6Outgoing[]> {
    if (this.#cfg.mode === 'off')
      throw new PxeError('PXE_ERR_SERVER_STATE', 'dhcp6.mode is off', { fix: 'set dhcp6.mode to full or boot-only' });
    if (this.#prepare().bindings) await this.#server.dhcp.loadLeaseStore();
    const out = await this.handle(Buffer.isBuffer(packet) ? packet : encode(packet), source);
    return out ? [out] : [];
  }

  /** One datagram in, at most one reply out. Never rejects: failures are logged and dropped. */
  async handle(buf: Buffer, source: { address: string; port: number }): Promise<Dhcp6Outgoing | undefined> {
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
    try {
      return await this.#answer(un.message, un.relays, source);
    } catch (err) {
      this.stats.dropped++;
      if (err instanceof HookError)
        log.error(
          { event: 'dhcp6.hook.error', err, hook: err.hook, plugin: err.plugin },
          'a plugin failed; DHCPv6 message dropped',
        );
      else log.error({ event: 'dhcp6.error', err }, 'DHCPv6 request failed; dropped');
      return undefined;
    }
  }

  async #answer(
    msg: Extract<Dhcp6Packet, { kind: 'message' }>,
    relays: Dhcp6RelayMessage[],
    source: { address: string; port: number },
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
    // Relay-reply layers, innermost first, each echoing its relay's Interface-ID (RFC 8415 §19.3).
    let out: Dhcp6Packet = res.reply;
    for (let i = relays.length - 1; i >= 0; i--) {
      const r = relays[i]!;
      const iid = findOption(r.options, 'interface-id');
      out = {
        kind: 'relay',
        msgType: MessageType.RELAY_REPL,
        hopCount: r.hopCount,
        linkAddress: r.linkAddress,
        peerAddress: r.peerAddress,
        options: [...(iid ? [iid] : []), { kind: 'relay-msg', message: out }],
      };
    }
    // To a relay: its port 547 (RFC 8415 §19.3); to a client: where it sent from (546).
    const to = { address: source.address, port: relays.length > 0 ? this.#cfg.port || 547 : source.port };
    return { buffer: encode(out), to, event: res.event };
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
    if (this.#setup) return this.#setup;
    const cfg = this.#cfg;
    let pools: Pool6[];
    try {
      pools = buildPools6(
        cfg.pools.map((p) => ({
          ...p,
          reservations: p.reservations.map((r) => ({
            address: r.address,
            ...(r.duid ? { duid: parseDuidHex(r.duid)! } : {}),
            ...(r.mac ? { mac: r.mac.toLowerCase().replace(/-/g, ':') } : {}),
            ...(r.hostname ? { hostname: r.hostname } : {}),
          })),
        })),
      );
    } catch (err) {
      throw new PxeError('PXE_ERR_CONFIG_INVALID', (err as Error).message, { fix: 'fix dhcp6.pools in the config' });
    }
    if (cfg.mode === 'full' && pools.length === 0)
      throw new PxeError('PXE_ERR_CONFIG_INVALID', 'dhcp6.mode is full but dhcp6.pools is empty', {
        fix: 'add a pool (prefix and range) or set dhcp6.mode to boot-only',
      });
    const links = ipv6Links(cfg.interfaces ?? this.#server.config.interfaces);
    const address = cfg.serverAddress ?? links.flatMap((l) => l.global)[0];
    if (!address)
      throw new PxeError(
        'PXE_ERR_CONFIG_INVALID',
        'DHCPv6 has no address for boot URLs: no served interface has a global IPv6 address',
        { fix: 'set dhcp6.serverAddress, or give the interface a global or ULA address' },
      );
    const configured = cfg.serverDuid ? parseDuidHex(cfg.serverDuid) : undefined;
    const mac = links.find((l) => l.mac)?.mac;
    const duid =
      configured ??
      (mac
        ? Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.from(mac.replace(/:/g, ''), 'hex')])
        : Buffer.concat([Buffer.from([0, 4]), Buffer.from(randomUUID().replace(/-/g, ''), 'hex')]));
    const bindings = cfg.mode === 'full' ? new Bindings6(this.#server.dhcp.leaseStore, pools) : undefined;
    this.#setup = { pools, bindings, duid, links, address };
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
