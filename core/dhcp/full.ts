/**
 * Full DHCP server mode (RFC 2131 §4.3): addresses from pools, reservations by MAC, and the boot
 * decision in the same OFFER/ACK. Every address goes through the allocator and the lease store's
 * compare-and-set before it is offered or acknowledged, so no address is ever handed to two clients.
 */
import type { DhcpConfig } from './config.js';
import type { DhcpContext, DhcpHooks } from '../hooks/dhcp.js';
import { echoVendorClass, putBootSpec, setIpxeNoPxeDhcp } from './boot-reply.js';
import { clientId, hostname, requestedIp, serverId as serverIdOption } from './option-accessors.js';
import { setOption } from './option-values.js';
import {
  DHCPACK,
  DHCPDECLINE,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  createPacket,
  isZeroIp,
  type DhcpPacket,
} from './packet.js';
import { ipToString, parseIp } from '../util/ipv4.js';
import { createReply } from './reply.js';
import type { Allocator } from './leases/allocator.js';
import { contains, poolFor, type Pool } from './leases/pool.js';
import type { Outcome, PipelineEnv } from './pipeline-types.js';

/** How long an OFFER holds its address for the client (RFC 2131 §4.3.1 leaves it to the server). */
export const OFFER_HOLD_MS = 30_000;
/** How long a DECLINEd address stays out of use (another host answers ARP for it). */
export const DECLINE_HOLD_MS = 10 * 60_000;

export interface FullModeOptions {
  pools: Pool[];
  allocator: Allocator;
  config: DhcpConfig;
  hooks: DhcpHooks;
}

export class FullMode {
  readonly #o: FullModeOptions;
  /** Each pool's fixed options, encoded once: they change only with the config. */
  readonly #encoded = new Map<Pool, EncodedPoolOptions>();

  constructor(opts: FullModeOptions) {
    this.#o = opts;
    for (const pool of opts.pools) {
      try {
        this.#encoded.set(pool, encodePoolOptions(pool));
      } catch {
        // A value that does not encode is left to putPoolOptions, which fails per reply as before.
      }
    }
  }

  /**
   * The pool for a request: the relay's link selection (82.5) or subnet (giaddr), else the receiving
   * interface's, else ciaddr's / the only pool.
   */
  choosePool(ctx: DhcpContext): Pool | undefined {
    const { pools } = this.#o;
    const p = ctx.packet;
    // RFC 3527: a relay's link-selection sub-option (82.5) names the client's subnet when giaddr cannot.
    const link = ctx.client.relay?.agentInfo.get(5);
    if (link?.length === 4) return poolFor(pools, `${link[0]}.${link[1]}.${link[2]}.${link[3]}`);
    if (!isZeroIp(p.giaddr)) return poolFor(pools, p.giaddr);
    if (ctx.local.address) return poolFor(pools, ctx.local.address);
    return poolFor(pools, p.ciaddr) ?? (pools.length === 1 ? pools[0] : undefined);
  }

  async handle(ctx: DhcpContext, env: PipelineEnv, sid: string): Promise<Outcome> {
    switch (ctx.messageType) {
      case DHCPDISCOVER:
        return this.#discover(ctx, env, sid);
      case DHCPREQUEST:
        return this.#request(ctx, env, sid);
      case DHCPDECLINE:
        return this.#decline(ctx, env, sid);
      case DHCPRELEASE:
        return this.#release(ctx, env);
      case DHCPINFORM:
        return this.#inform(ctx, env, sid);
      default:
        return { ignore: `message type ${ctx.messageType} is not a client message` };
    }
  }

  async #discover(ctx: DhcpContext, env: PipelineEnv, sid: string): Promise<Outcome> {
    const pool = this.choosePool(ctx);
    if (!pool) return noPool(ctx);
    const p = ctx.packet;
    const now = env.now();
    const wanted = requestedIp(p);
    const proposal = await this.#o.hooks.selectLease.promise({
      ctx,
      subnet: pool.cidr,
      ...(wanted ? { requestedIp: wanted } : {}),
    });
    if (proposal && !this.#o.allocator.allowed(pool, p.mac, proposal.ip)) {
      ctx.log.debug(
        { event: 'dhcp.lease.proposal.refused', ip: proposal.ip, subnet: pool.cidr },
        'selectLease proposed an address outside the pool or reserved for another client',
      );
    }
    const previous = await this.#o.allocator.store.get(p.mac);
    const lease = await this.#o.allocator.offer(pool, {
      mac: p.mac,
      preferred: [proposal?.ip, previous?.ip, wanted],
      expiresAt: now + OFFER_HOLD_MS,
      now,
      ...clientFields(p, pool),
    });
    if (!lease) {
      return {
        drop: `pool ${pool.cidr} is exhausted`,
        code: 'PXE_ERR_DHCP_POOL_EXHAUSTED',
        level: 'warn',
        data: { subnet: pool.cidr },
      };
    }
    return this.#answer(ctx, env, sid, pool, DHCPOFFER, lease.ip);
  }

  async #request(ctx: DhcpContext, env: PipelineEnv, sid: string): Promise<Outcome> {
    const p = ctx.packet;
    const chosen = serverIdOption(p);
    const wanted = requestedIp(p);
    const { allocator } = this.#o;
    if (chosen !== undefined && chosen !== sid) {
      // SELECTING another server's offer: let our hold go at once (RFC 2131 §4.3.2). Only while it is
      // still an offer, checked by the store atomically: another instance sharing the store may have
      // bound it between our read and the release.
      const prev = await allocator.store.get(p.mac);
      if (prev?.state === 'offered')
        await allocator.release(poolFor(this.#o.pools, prev.ip), p.mac, prev.ip, env.now(), 'offered');
      return { done: `client chose server ${chosen}`, data: { serverId: chosen } };
    }
    const pool = this.choosePool(ctx);
    if (chosen !== undefined) {
      // SELECTING our offer.
      if (!pool) return noPool(ctx);
      const ip = wanted ?? (isZeroIp(p.ciaddr) ? undefined : p.ciaddr);
      if (!ip) return this.#nak(ctx, sid, 'SELECTING request without option 50');
      return this.#commit(ctx, env, sid, pool, ip);
    }
    if (wanted !== undefined && isZeroIp(p.ciaddr)) {
      // INIT-REBOOT: the client verifies a remembered address.
      if (!pool) return { done: 'INIT-REBOOT on a network without a pool: silent' };
      if (!contains(pool, parseIp(wanted))) return this.#nak(ctx, sid, `${wanted} is not on ${pool.cidr}`);
      const reserved = pool.reservations.get(p.mac);
      if (reserved && reserved.ip !== wanted) return this.#nak(ctx, sid, `${p.mac} is reserved ${reserved.ip}`);
      const prev = await allocator.store.get(p.mac);
      // RFC 2131 §4.3.2: no record of this client → remain silent (another server may know it).
      if (!reserved && !prev) return { done: 'INIT-REBOOT from an unknown client: silent' };
      if (!reserved && prev && prev.ip !== wanted) return this.#nak(ctx, sid, `${wanted} is not this client's address`);
      return this.#commit(ctx, env, sid, pool, wanted);
    }
    if (!isZeroIp(p.ciaddr)) {
      // RENEWING (unicast) or REBINDING (broadcast): extend the lease on ciaddr.
      const byAddr = poolFor(this.#o.pools, p.ciaddr);
      if (!byAddr) return pool ? this.#nak(ctx, sid, `${p.ciaddr} is not on ${pool.cidr}`) : noPool(ctx);
      return this.#commit(ctx, env, sid, byAddr, p.ciaddr);
    }
    return { drop: 'REQUEST with neither option 50 nor ciaddr', level: 'debug' };
  }

  async #commit(ctx: DhcpContext, env: PipelineEnv, sid: string, pool: Pool, ip: string): Promise<Outcome> {
    const now = env.now();
    const p = ctx.packet;
    const lease = await this.#o.allocator.commit(
      pool,
      { mac: p.mac, ip, expiresAt: now + pool.config.leaseTime * 1000, ...clientFields(p, pool) },
      now,
    );
    if (!lease) return this.#nak(ctx, sid, `${ip} is not available to ${p.mac}`);
    return this.#answer(ctx, env, sid, pool, DHCPACK, ip);
  }

  async #decline(ctx: DhcpContext, env: PipelineEnv, sid: string): Promise<Outcome> {
    const p = ctx.packet;
    const ip = requestedIp(p);
    const chosen = serverIdOption(p);
    if (!ip || (chosen !== undefined && chosen !== sid))
      return { ignore: 'DECLINE without option 50 or for another server' };
    const pool = poolFor(this.#o.pools, ip);
    const cur = await this.#o.allocator.store.getByIp(ip);
    if (!pool || cur?.mac !== p.mac)
      return {
        done: `DECLINE of ${ip}, which is not this client's`,
        event: 'dhcp.decline',
        data: { ip, accepted: false },
      };
    const now = env.now();
    await this.#o.allocator.decline(pool, ip, now + DECLINE_HOLD_MS, now);
    return {
      done: `${ip} declined: quarantined`,
      event: 'dhcp.decline',
      data: { ip, accepted: true, untilMs: DECLINE_HOLD_MS },
    };
  }

  async #release(ctx: DhcpContext, env: PipelineEnv): Promise<Outcome> {
    const p = ctx.packet;
    const ip = p.ciaddr;
    if (isZeroIp(ip)) return { ignore: 'RELEASE without ciaddr' };
    const ok = await this.#o.allocator.release(poolFor(this.#o.pools, ip), p.mac, ip, env.now());
    return {
      done: ok ? `${ip} released` : `RELEASE of ${ip}, which is not this client's`,
      event: 'dhcp.release',
      data: { ip, released: ok },
    };
  }

  async #inform(ctx: DhcpContext, env: PipelineEnv, sid: string): Promise<Outcome> {
    const pool = poolFor(this.#o.pools, ctx.packet.ciaddr) ?? this.choosePool(ctx);
    if (!pool) return noPool(ctx);
    return this.#answer(ctx, env, sid, pool, DHCPACK, undefined);
  }

  /** An OFFER or ACK with the pool's options and the boot decision; `ip` undefined = INFORM answer. */
  async #answer(
    ctx: DhcpContext,
    env: PipelineEnv,
    sid: string,
    pool: Pool,
    type: number,
    ip: string | undefined,
  ): Promise<Outcome> {
    const { packet: p, client } = ctx;
    const reply = createReply(p, type, sid);
    const leaseTime = ip === undefined ? undefined : pool.config.leaseTime;
    if (ip !== undefined) reply.yiaddr = ip;
    putPoolOptions(reply, pool, leaseTime, pool.reservations.get(p.mac)?.hostname, this.#encoded.get(pool));
    if (client.isIpxe && this.#o.config.ipxeNoPxeDhcp) setIpxeNoPxeDhcp(reply);
    const decision = await env.decideBoot(ctx);
    const spec = decision.spec;
    let data: Record<string, unknown> = { yiaddr: ip, subnet: pool.cidr, leaseTime };
    if (spec && !spec.noBoot && spec.file) {
      // Option 60 only for HTTP boot: `PXEClient` without option 43 in a full offer sends EDK2 to
      // port 4011 (firmware-quirks: "Windows DHCP option 060=PXEClient stops UEFI"); dnsmasq omits it too.
      echoVendorClass(reply, client, { pxe: false });
      data = { ...data, ...putBootSpec({ reply, request: p, spec, serverAddress: sid }) };
    } else if (client.isPxeClient || client.isHttpClient || client.isIpxe) {
      env.emit(
        ctx,
        'dhcp.noboot',
        'info',
        { reason: spec?.noBoot ? 'noBoot' : spec ? 'no boot file' : 'no plugin chose a boot file', yiaddr: ip },
        decision.plugin,
      );
    }
    const event = type === DHCPOFFER ? 'dhcp.offer' : 'dhcp.ack';
    return {
      send: {
        reply,
        event,
        delay: type === DHCPOFFER,
        spec,
        ...(decision.plugin ? { plugin: decision.plugin } : {}),
        data,
      },
    };
  }

  #nak(ctx: DhcpContext, sid: string, reason: string): Outcome {
    const reply = createReply(ctx.packet, DHCPNAK, sid);
    setOption(reply, 56, reason);
    return { send: { reply, event: 'dhcp.nak', data: { reason } } };
  }
}

function noPool(ctx: DhcpContext): Outcome {
  const where = isZeroIp(ctx.packet.giaddr)
    ? `interface ${ctx.local.interface ?? '?'} (${ctx.local.address ?? 'address unknown'})`
    : `relay ${ctx.packet.giaddr}`;
  return {
    drop: `no pool for ${where}`,
    code: 'PXE_ERR_DHCP_NO_POOL',
    level: 'warn',
    data: { giaddr: ctx.packet.giaddr, local: ctx.local.address },
  };
}

function clientFields(p: DhcpPacket, pool: Pool): { clientId?: string; hostname?: string } {
  let id: Buffer | undefined;
  let name: string | undefined;
  try {
    id = clientId(p);
    name = pool.reservations.get(p.mac)?.hostname ?? hostname(p);
  } catch {
    // A malformed option 12 or 61 does not stop the lease; it is just not recorded.
  }
  return { ...(id?.length ? { clientId: id.toString('hex') } : {}), ...(name ? { hostname: name } : {}) };
}

/** A pool's options as bytes, in wire order: 51/58/59 for `leaseTime`, and the fixed ones. */
export interface EncodedPoolOptions {
  leaseTime: number;
  lease: [number, Buffer][];
  fixed: [number, Buffer][];
}

/** Encodes what putPoolOptions would set for `pool` (throws EncodeError like it). */
export function encodePoolOptions(pool: Pool): EncodedPoolOptions {
  const lease = createPacket();
  putLeaseTimes(lease, pool.config.leaseTime);
  const fixed = createPacket();
  putFixedOptions(fixed, pool);
  return { leaseTime: pool.config.leaseTime, lease: [...lease.options], fixed: [...fixed.options] };
}

/**
 * Options 51/58/59, 1, 28, 3, 6, 15 and 12. With `encoded` (from encodePoolOptions) the bytes are
 * copied (a `reply` tap may change a reply's option bytes in place) instead of encoded again.
 */
export function putPoolOptions(
  reply: DhcpPacket,
  pool: Pool,
  leaseTime: number | undefined,
  host: string | undefined,
  encoded?: EncodedPoolOptions,
): void {
  if (leaseTime !== undefined) {
    if (encoded?.leaseTime === leaseTime) copyOptions(reply, encoded.lease);
    else putLeaseTimes(reply, leaseTime);
  }
  if (encoded) copyOptions(reply, encoded.fixed);
  else putFixedOptions(reply, pool);
  if (host) setOption(reply, 12, host);
}

/** Lease time, T1 = 50 %, T2 = 87.5 % (RFC 2131 §4.4.5). */
function putLeaseTimes(reply: DhcpPacket, leaseTime: number): void {
  setOption(reply, 51, leaseTime);
  setOption(reply, 58, Math.floor(leaseTime / 2));
  setOption(reply, 59, Math.floor((leaseTime * 7) / 8));
}

function putFixedOptions(reply: DhcpPacket, pool: Pool): void {
  setOption(reply, 1, ipToString(pool.mask));
  setOption(reply, 28, ipToString(pool.broadcast));
  if (pool.config.router) setOption(reply, 3, [pool.config.router]);
  if (pool.config.dns?.length) setOption(reply, 6, pool.config.dns);
  if (pool.config.domain) setOption(reply, 15, pool.config.domain);
}

function copyOptions(reply: DhcpPacket, options: [number, Buffer][]): void {
  for (const [code, bytes] of options) {
    const copy = Buffer.allocUnsafe(bytes.length);
    bytes.copy(copy);
    reply.options.set(code, copy);
  }
}
