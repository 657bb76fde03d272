/**
 * The per-packet DHCP pipeline, one code path for sockets and `inject`:
 * decode → BOOTREQUEST only → classify (core, then `classify` taps) → session → `receive` taps →
 * `admit` → mode handler (proxy / boot server / full) → `reply` taps → encode → destination.
 * A malformed packet, a failing plugin tap or a store error drops the packet with a logged reason;
 * nothing here throws to the socket.
 */
import type { Logger } from 'pino';
import { HookError, hookTags, unavailableCause } from '../errors.js';
import type { DhcpContext, DhcpHooks } from '../hooks/dhcp.js';
import type { ProtocolHost } from '../hooks/host.js';
import { recordDecision } from './boot-reply.js';
import { handleBootServer } from './bootserver.js';
import { decode, encode, replySizeLimit } from './codec.js';
import { DecodeError, EncodeError } from './decode-error.js';
import type { FullMode } from './full.js';
import { inferLocal, type LocalAddress } from './interfaces.js';
import { getOption } from './option-values.js';
import type { DhcpConfig } from './config.js';
import { BOOTREQUEST, CLIENT_PORT, messageTypeName, readIp, type DhcpPacket } from './packet.js';
import type { BootDecision, Outcome, Outgoing, PipelineEnv } from './pipeline-types.js';
import { hex, packetContext } from './packet-context.js';
import { handleProxy } from './proxy.js';
import { echoRelayAgentInfo, replyDestination } from './reply.js';
import { LogLimiter } from '../util/log-limit.js';

/** One datagram as received. `local` is known when it came in on a socket bound to one address. */
export interface Incoming {
  buffer: Buffer;
  kind: 'dhcp' | 'bootserver';
  source: { address: string; port: number };
  local?: { address?: string; interface?: string };
}

/** Where a reply goes. `broadcast` = to 255.255.255.255 with SO_BROADCAST. */
export interface ReplyTo {
  address: string;
  port: number;
  broadcast: boolean;
}

/** A reply ready for the wire (`inject` decodes `buffer` to show the packet as sent). */
export interface Prepared {
  buffer: Buffer;
  to: ReplyTo;
  /** The local address it should leave from (the listener picks the socket bound to it). */
  local: { address?: string; interface?: string };
}

export interface PipelineOptions {
  /** Admit, boot events, sessions and `decidedBy`, from the server. */
  server: ProtocolHost;
  hooks: DhcpHooks;
  log: Logger;
  config: DhcpConfig;
  /** Every local IPv4 address, and those we serve (config.interfaces / dhcp.address). */
  addresses: () => { all: LocalAddress[]; served: LocalAddress[] };
  /** The DHCP server port now in use (after start, the bound one): relays are answered on it, clients on it + 1. */
  port: () => number;
  full: FullMode | undefined;
  now?: () => number;
}

export interface DhcpStats {
  received: number;
  decodeErrors: number;
  dropped: number;
  /** Of `dropped`: requests a shared store could not serve while it was away (UnavailableError). */
  unavailable: number;
  replies: number;
}

/** RFC 2131 §2 message layout: yiaddr and siaddr offsets. */
const YIADDR_OFFSET = 16;
const SIADDR_OFFSET = 20;

const RECEIVED_EVENTS: Record<number, string> = { 1: 'dhcp.discover', 3: 'dhcp.request', 8: 'dhcp.inform' };

export class DhcpPipeline {
  readonly stats: DhcpStats = { received: 0, decodeErrors: 0, dropped: 0, unavailable: 0, replies: 0 };
  readonly #o: PipelineOptions;
  readonly #env: PipelineEnv;
  readonly #decisions = new WeakMap<DhcpContext, Promise<BootDecision>>();
  /** Per-packet errors (a failing plugin, a failing store): one line a second per kind, with a count. */
  readonly #limited = new LogLimiter();

  constructor(opts: PipelineOptions) {
    this.#o = opts;
    const now = opts.now ?? Date.now;
    this.#env = {
      now,
      decideBoot: (ctx) => {
        let d = this.#decisions.get(ctx);
        if (!d) {
          d = this.#decideBoot(ctx);
          this.#decisions.set(ctx, d);
        }
        return d;
      },
      emit: (ctx, type, outcome, data, plugin) => this.#emit(ctx, type, outcome, data, plugin),
    };
  }

  /** Runs one datagram through the pipeline; resolves with the reply to send, if any. Never rejects. */
  async handle(inc: Incoming): Promise<Prepared | undefined> {
    this.stats.received++;
    const { log } = this.#o;
    let packet: DhcpPacket;
    let messageType: number | undefined;
    try {
      packet = decode(inc.buffer);
      messageType = getOption(packet, 53);
    } catch (err) {
      this.stats.decodeErrors++;
      this.stats.dropped++;
      const reason = err instanceof DecodeError ? err.reason : 'unknown';
      log.debug(
        {
          event: 'dhcp.decode.error',
          code: 'PXE_ERR_DHCP_DECODE',
          reason,
          detail: (err as Error).message,
          source: inc.source,
          bytes: inc.buffer.length,
        },
        'malformed DHCP packet dropped',
      );
      return undefined;
    }
    if (packet.op !== BOOTREQUEST) return this.#quietDrop(packet, 'not a BOOTREQUEST');
    if (messageType === undefined)
      return this.#quietDrop(packet, 'BOOTP request without option 53 (BOOTP is not served)');

    const local = this.#local(inc, packet);
    if (local === 'filtered') return this.#quietDrop(packet, 'arrived from an interface that is not served');
    const ctx = this.#context(inc, packet, messageType, local);
    try {
      return await this.#run(ctx);
    } catch (err) {
      this.stats.dropped++;
      const unavailable = unavailableCause(err);
      if (unavailable) {
        // An expected state (the shared store is away; its owner reports the outage once): a debug
        // line and a drop event with the code, no error log, no stack trace.
        this.stats.unavailable++;
        ctx.log.debug(
          { event: 'dhcp.unavailable', code: unavailable.code, reason: unavailable.message },
          'a shared store is unavailable; packet dropped',
        );
        this.#emit(ctx, 'dhcp.drop', 'info', { reason: unavailable.message, code: unavailable.code });
      } else if (err instanceof HookError) {
        const tags = hookTags(err);
        this.#limited.error(
          ctx.log,
          { event: 'dhcp.hook.error', err, ...tags },
          'a plugin failed; packet dropped',
          `${tags.plugin}:${tags.hook}`,
        );
        this.#emit(ctx, 'dhcp.drop', 'error', { reason: `hook failed: ${err.hook}`, code: err.code }, err.plugin);
      } else if (err instanceof DecodeError) {
        ctx.log.debug(
          { event: 'dhcp.decode.error', code: 'PXE_ERR_DHCP_DECODE', reason: err.reason, detail: err.message },
          'malformed DHCP option; packet dropped',
        );
        this.#emit(ctx, 'dhcp.drop', 'error', { reason: `malformed option: ${err.reason}` });
      } else {
        const code = (err as { code?: unknown }).code;
        this.#limited.error(
          ctx.log,
          { event: 'dhcp.error', err, ...(typeof code === 'string' ? { code } : {}) },
          'DHCP request failed; packet dropped',
        );
        this.#emit(ctx, 'dhcp.drop', 'error', { reason: (err as Error).message });
      }
      return undefined;
    }
  }

  async #run(ctx: DhcpContext): Promise<Prepared | undefined> {
    const { server, hooks, config } = this.#o;
    ctx.client = hooks.classify.call(ctx.client, ctx);
    Object.assign(ctx.session.labels, ctx.client.labels);
    const dropped = await hooks.receive.promise(ctx);
    if (dropped) {
      const plugin = server.runner.decidedBy(dropped);
      return this.#drop(ctx, dropped.drop, 'debug', plugin);
    }
    const received = RECEIVED_EVENTS[ctx.messageType];
    if (received && this.#o.server.observesBootEvents)
      this.#emit(ctx, received, 'info', {
        ciaddr: ctx.packet.ciaddr,
        giaddr: ctx.packet.giaddr,
        vendorClass: ctx.client.vendorClass,
        kind: ctx.kind,
      });
    const admitted = await server.admit({
      protocol: 'dhcp',
      mac: ctx.packet.mac,
      ...(ctx.session.ip ? { ip: ctx.session.ip } : {}),
      session: ctx.session,
    });
    if (!admitted.allowed) return this.#drop(ctx, `denied: ${admitted.reason ?? 'admit'}`, 'debug', admitted.plugin);
    const sid = config.serverAddress ?? ctx.local.address;
    if (!sid)
      return this.#drop(
        ctx,
        'no server address: set dhcp.serverAddress or dhcp.address (several interfaces, cannot tell which one)',
        'warn',
      );

    let outcome: Outcome;
    if (ctx.kind === 'bootserver') outcome = await handleBootServer(ctx, this.#env, sid);
    else if (this.#o.full) outcome = await this.#o.full.handle(ctx, this.#env, sid);
    else outcome = await handleProxy(ctx, this.#env, sid);

    if ('send' in outcome) return this.#send(ctx, outcome.send);
    if ('done' in outcome) {
      if (outcome.event) {
        // RELEASE and DECLINE change the lease store: one info line each, like replies.
        ctx.log.info({ event: outcome.event, reason: outcome.done, ...outcome.data }, outcome.done);
        this.#emit(ctx, outcome.event, 'info', { reason: outcome.done, ...outcome.data });
      } else if (this.#o.log.isLevelEnabled('debug')) {
        ctx.log.debug({ event: 'dhcp.done', reason: outcome.done, ...outcome.data }, outcome.done);
      }
      return undefined;
    }
    if ('noBoot' in outcome) {
      const plugin = (await this.#env.decideBoot(ctx)).plugin;
      if (this.#o.log.isLevelEnabled('debug'))
        ctx.log.debug({ event: 'dhcp.noboot', reason: outcome.noBoot, plugin }, 'no boot decision: no proxy answer');
      this.#emit(ctx, 'dhcp.noboot', 'info', { reason: outcome.noBoot }, plugin);
      return undefined;
    }
    if ('ignore' in outcome) return this.#drop(ctx, outcome.ignore, 'debug');
    return this.#drop(ctx, outcome.drop, outcome.level ?? 'debug', undefined, outcome.code, outcome.data);
  }

  async #send(ctx: DhcpContext, out: Outgoing): Promise<Prepared | undefined> {
    const { hooks, config, log } = this.#o;
    const reply = await hooks.reply.promise(out.reply, ctx);
    echoRelayAgentInfo(reply, ctx.packet);
    let buffer: Buffer;
    try {
      buffer = encode(reply, { maxSize: replySizeLimit(ctx.packet) });
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      this.#limited.error(
        ctx.log,
        { event: 'dhcp.encode.error', reason: err.reason, detail: err.message },
        'reply could not be encoded; dropped',
        err.reason,
      );
      return this.#drop(ctx, `reply does not encode: ${err.message}`, undefined);
    }
    if (out.delay && config.replyDelayMs > 0) await new Promise((r) => setTimeout(r, config.replyDelayMs));
    const to = this.#destination(ctx, reply);
    this.stats.replies++;
    // The two addresses as sent (canonical dotted quads), read from the bytes: no need to decode
    // the whole reply again. yiaddr is the address TFTP and HTTP will see this client come from.
    const yiaddr = readIp(buffer, YIADDR_OFFSET);
    const siaddr = readIp(buffer, SIADDR_OFFSET);
    if (out.event !== 'dhcp.offer' && out.event !== 'dhcp.nak' && yiaddr !== '0.0.0.0')
      ctx.session = this.#o.server.sessions.upsert(ctx.packet.mac, { ip: yiaddr });
    const logged = log.isLevelEnabled('info');
    if (logged || this.#o.server.observesBootEvents) {
      const data = {
        xid: hex(ctx.packet.xid),
        yiaddr,
        siaddr,
        arch: ctx.client.arch,
        archName: ctx.client.archName,
        ...out.data,
        to,
      };
      if (logged)
        ctx.log.info({ event: out.event, ...data, plugin: out.plugin }, `${out.event} → ${to.address}:${to.port}`);
      this.#emit(ctx, out.event, out.event === 'dhcp.nak' ? 'denied' : 'ok', data, out.plugin);
    }
    return { buffer, to, local: ctx.local };
  }

  /** RFC 2131 §4.1, except: 4011 replies go to the source; "unicast to yiaddr" needs ARP we cannot do, so broadcast. */
  #destination(ctx: DhcpContext, reply: DhcpPacket): ReplyTo {
    const port = this.#o.port();
    if (ctx.kind === 'bootserver') {
      if (ctx.source.address !== '0.0.0.0')
        return { address: ctx.source.address, port: ctx.source.port, broadcast: false };
      return { address: '255.255.255.255', port: ctx.source.port || port + 1, broadcast: true };
    }
    const d = replyDestination(ctx.packet, reply);
    if (d.rule === 'relay') return { address: d.address, port, broadcast: false };
    if (d.rule === 'yiaddr' || d.broadcast)
      return { address: '255.255.255.255', port: d.port === CLIENT_PORT ? port + 1 : d.port, broadcast: true };
    return { address: d.address, port: port + 1, broadcast: false };
  }

  async #decideBoot(ctx: DhcpContext): Promise<BootDecision> {
    const spec = await this.#o.hooks.selectBoot.promise(ctx);
    if (!spec) return { spec: undefined };
    const plugin = spec.decidedBy ?? this.#o.server.runner.decidedBy(spec);
    const recorded = recordDecision(spec, plugin);
    ctx.session.boot = recorded;
    return { spec: recorded, ...(plugin ? { plugin } : {}) };
  }

  #local(inc: Incoming, packet: DhcpPacket): { address?: string; interface?: string } | 'filtered' {
    if (inc.local?.address) return inc.local;
    const { all, served } = this.#o.addresses();
    const hit = inferLocal(all, served, { giaddr: packet.giaddr, ciaddr: packet.ciaddr, source: inc.source.address });
    if (hit === 'filtered') return hit;
    return hit ? { address: hit.address, interface: hit.interface } : { ...inc.local };
  }

  #context(
    inc: Incoming,
    packet: DhcpPacket,
    messageType: number,
    local: { address?: string; interface?: string },
  ): DhcpContext {
    const mode = this.#o.full ? 'full' : 'proxy';
    return packetContext(this.#o.log, this.#o.server.sessions, packet, messageType, inc, mode, local);
  }

  #quietDrop(packet: DhcpPacket, reason: string): undefined {
    this.stats.dropped++;
    this.#o.log.debug({ event: 'dhcp.drop', xid: hex(packet.xid), mac: packet.mac, reason }, 'DHCP packet ignored');
    return undefined;
  }

  #drop(
    ctx: DhcpContext,
    reason: string,
    level: 'debug' | 'info' | 'warn' | 'error' | undefined,
    plugin?: string,
    code?: string,
    data?: Record<string, unknown>,
  ): undefined {
    this.stats.dropped++;
    // isLevelEnabled first: ctx.log makes the packet's child logger (see PacketContext).
    if (level && this.#o.log.isLevelEnabled(level))
      ctx.log[level](
        { event: 'dhcp.drop', reason, plugin, code, ...data },
        `DHCP ${messageTypeName(ctx.messageType)} dropped: ${reason}`,
      );
    this.#emit(ctx, 'dhcp.drop', code ? 'error' : 'info', { reason, ...(code ? { code } : {}), ...data }, plugin);
    return undefined;
  }

  #emit(
    ctx: DhcpContext,
    type: string,
    outcome: 'ok' | 'denied' | 'error' | 'info',
    data: Record<string, unknown>,
    plugin?: string,
  ): void {
    if (!this.#o.server.observesBootEvents) return;
    this.#o.server.emit({
      type,
      protocol: 'dhcp',
      outcome,
      mac: ctx.packet.mac,
      ...(ctx.session.ip ? { ip: ctx.session.ip } : {}),
      session: ctx.session,
      ...(plugin ? { plugin } : {}),
      data: { xid: hex(ctx.packet.xid), arch: ctx.client.arch, ...data },
    });
  }
}
