import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook, SyncWaterfallHook } from 'tapable';
import type { Logger } from 'pino';
import type { DhcpPacket } from '../dhcp/packet.js';
import type { Dhcp6Message, Dhcp6RelayMessage } from '../dhcp6/types.js';
import type { ClientClass } from '../dhcp/pxe.js';
import type { BootSession, BootSpec } from '../session/types.js';
import type { HookRunner } from './runner.js';

/** One received DHCP packet and what the server learned about its sender. Built once per packet. */
export interface DhcpContext {
  packet: DhcpPacket;
  /** Option 53 (1 DISCOVER … 8 INFORM); 0 for plain BOOTP. */
  messageType: number;
  /** `dhcp` on the DHCP port, `bootserver` on the PXE boot-server port (4011). */
  kind: 'dhcp' | 'bootserver';
  mode: 'proxy' | 'full';
  source: { address: string; port: number };
  /** The local address and interface the packet arrived on, when known. */
  local: { address?: string; interface?: string };
  /** Filled by the core from options 60/77/93/94/97/175, then by `classify` taps. */
  client: ClientClass;
  session: BootSession;
  log: Logger;
  /**
   * Set for a DHCPv6 client (RFC 8415). `packet` is then a stand-in built from the DHCPv6 message —
   * chaddr/mac from option 79, the EUI-64 link-local address or the DUID; 60, 77, 93 and 94 from options
   * 16, 15, 61 and 62 — so that classification and every selectBoot plugin work unchanged.
   */
  ipv6?: Dhcp6ContextInfo;
}

/** What a DHCPv6 request adds to its DhcpContext. */
export interface Dhcp6ContextInfo {
  /** The client's message (Solicit, Request, Information-request ...), unwrapped from relays. */
  message: Dhcp6Message;
  /** Relay layers, outermost (nearest this server) first; empty when the client is on the link. */
  relays: Dhcp6RelayMessage[];
  /** The client DUID as hex (`00:01:00:01:...`); empty for an Information-request without one. */
  duid: string;
  /** Where the MAC came from; `unknown` = none of them, and `mac` is then `duid:<hex>` (never matches a MAC rule). */
  macSource: 'option79' | 'link-local' | 'duid' | 'unknown';
}

/** `{ drop }` ignores the packet (logged at debug with the reason). */
export interface DropDecision {
  drop: string;
}

/** What `selectLease` is asked: an address for this client from this pool. */
export interface LeaseSelection {
  ctx: DhcpContext;
  /** The pool (subnet) chosen for the request from giaddr or the receiving interface. */
  subnet: string;
  /** Option 50 or ciaddr, when the client asked for one. */
  requestedIp?: string;
}

/** Hooks of the DHCP server (IPv4, and DHCPv6 through the same context): filter, classify, decide, reply. */
export interface DhcpHooks {
  /**
   * First look at every decoded packet: a tap may drop it (e.g. another instance owns this client).
   *
   * @when For each decoded BOOTREQUEST, after classification and the session update, before `admit`.
   * @returns `{ drop: 'reason' }` ignores the packet (logged at debug with the reason, emitted as
   *   `dhcp.drop`); `undefined` passes it on.
   * @onError The packet is dropped and the failure logged (`dhcp.hook.error`).
   * @example
   * ```ts
   * server.dhcp.hooks.receive.tapPromise('sharding', async (ctx) => {
   *   return owner(ctx.packet.mac) === me ? undefined : { drop: 'owned by another instance' };
   * });
   * ```
   */
  receive: AsyncSeriesBailHook<[DhcpContext], DropDecision | undefined>;
  /**
   * Enrich the core's classification: labels, a model by MAC OUI, a rack by MAC.
   *
   * @when For each packet, right after the core filled `ClientClass` from options 60, 77, 93, 94, 97, 175
   *   and 82 (`core/dhcp/pxe.ts`). Must be fast and synchronous.
   * @returns The (same or a new) `ClientClass`, passed to the next tap and kept in the context.
   * @onError The packet is dropped and the failure logged (`dhcp.hook.error`).
   * @example
   * ```ts
   * server.dhcp.hooks.classify.tap('raspberry-pi', (client, ctx) => {
   *   if (ctx.packet.mac.startsWith('dc:a6:32:')) client.labels['model'] = 'rpi4';
   *   return client;
   * });
   * ```
   */
  classify: SyncWaterfallHook<[ClientClass, DhcpContext]>;
  /**
   * The boot decision for an admitted client: first plugin to answer wins.
   *
   * @when For each admitted DHCP request that can carry boot information (proxy and full mode, the boot
   *   server on 4011). Built-in order: `mac-allowlist` default boot (first), `boot-intents` (first),
   *   `ipxe-chain` and `host-profiles` (default), `boot-by-arch` (late, the fallback).
   * @returns A `BootSpec` (`file` — a TFTP name or a URL —, `nextServer`, `noBoot`, `proxyPolicy`,
   *   `dhcpOptions`, `vars`, `reason`), or `undefined` to let the next plugin decide; no answer at all means
   *   no boot information (full mode still leases an address).
   * @onError The packet is dropped and the failure logged (`dhcp.hook.error`).
   * @example
   * ```ts
   * server.dhcp.hooks.selectBoot.tapPromise('lab', async (ctx) => {
   *   if (ctx.client.arch !== 7) return undefined;
   *   return { file: 'ipxe/ipxe.efi', reason: 'x64 UEFI in the lab' };
   * });
   * ```
   */
  selectBoot: AsyncSeriesBailHook<[DhcpContext], BootSpec | undefined>;
  /**
   * Full mode: pick the client's address, for example from a store shared by several instances.
   *
   * @when In full mode, when a DISCOVER or REQUEST needs an address from a pool.
   * @returns `{ ip }` to choose the address, or `undefined` for the lease store's own choice. The core still
   *   refuses an address outside the pool or leased to someone else (`dhcp.lease.proposal.refused`).
   * @onError The packet is dropped and the failure logged (`dhcp.hook.error`).
   * @example
   * ```ts
   * server.dhcp.hooks.selectLease.tapPromise('fixed', async ({ ctx, subnet }) => {
   *   const ip = table.get(ctx.packet.mac);
   *   return ip && subnet === '10.0.0.0/24' ? { ip } : undefined;
   * });
   * ```
   */
  selectLease: AsyncSeriesBailHook<[LeaseSelection], { ip: string } | undefined>;
  /**
   * Last edits to a reply before it is encoded and sent: add or remove options.
   *
   * @when For each reply (OFFER, ACK, NAK, proxy and boot-server replies), after the core built it.
   * @returns The reply packet to send (the same object edited, or a new one).
   * @onError The packet is dropped and the failure logged (`dhcp.hook.error`).
   * @example
   * ```ts
   * server.dhcp.hooks.reply.tapPromise('ntp', async (reply) => {
   *   setOption(reply, 42, ['10.0.0.1']);
   *   return reply;
   * });
   * ```
   */
  reply: AsyncSeriesWaterfallHook<[DhcpPacket, DhcpContext]>;
}

export function createDhcpHooks(runner: HookRunner): DhcpHooks {
  return {
    receive: runner.register(
      'dhcp.receive',
      new AsyncSeriesBailHook<[DhcpContext], DropDecision | undefined>(['context']),
    ),
    classify: runner.register(
      'dhcp.classify',
      new SyncWaterfallHook<[ClientClass, DhcpContext]>(['client', 'context']),
    ),
    selectBoot: runner.register(
      'dhcp.selectBoot',
      new AsyncSeriesBailHook<[DhcpContext], BootSpec | undefined>(['context']),
    ),
    selectLease: runner.register(
      'dhcp.selectLease',
      new AsyncSeriesBailHook<[LeaseSelection], { ip: string } | undefined>(['selection']),
    ),
    reply: runner.register('dhcp.reply', new AsyncSeriesWaterfallHook<[DhcpPacket, DhcpContext]>(['reply', 'context'])),
  };
}
