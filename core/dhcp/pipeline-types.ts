/**
 * Types shared by the DHCP pipeline and its mode handlers (proxy.ts, bootserver.ts, full.ts): what a
 * handler may ask of the pipeline, and what it answers.
 */
import type { DhcpContext } from '../hooks/dhcp.js';
import type { ErrorCode } from '../errors.js';
import type { BootSpec } from '../session/types.js';
import type { DhcpPacket } from './packet.js';

/** The `selectBoot` answer for one packet, with the plugin that gave it. */
export interface BootDecision {
  spec: BootSpec | undefined;
  plugin?: string;
}

/** A reply to send. */
export interface Outgoing {
  reply: DhcpPacket;
  /** Log and boot-event name: `dhcp.offer`, `dhcp.ack`, `dhcp.nak`, `dhcp.proxy.offer`, `dhcp.proxy.ack`, `dhcp.bootserver.ack`. */
  event: string;
  /** Wait `dhcp.replyDelayMs` first (OFFERs only). */
  delay?: boolean;
  /** The boot decision the reply carries, if any. */
  spec?: BootSpec | undefined;
  plugin?: string;
  /** Extra fields for the log line and boot event (bootFile, nextServer, policy, reason, leaseTime...). */
  data?: Record<string, unknown>;
}

/**
 * What a handler decided: send a reply; handled with nothing to send (`done`: RELEASE, DECLINE, a
 * REQUEST for another server, INIT-REBOOT of an unknown client); not for us (`ignore`); no boot
 * decision, so no proxy answer (`noBoot`); or a drop worth a warning (`drop`, e.g. no pool).
 */
export type Outcome =
  | { send: Outgoing }
  | { done: string; event?: string; data?: Record<string, unknown> }
  | { ignore: string }
  | { noBoot: string }
  | { drop: string; code?: ErrorCode; level?: 'debug' | 'info' | 'warn' | 'error'; data?: Record<string, unknown> };

/** What the pipeline offers the handlers. */
export interface PipelineEnv {
  /** Runs `selectBoot` once per packet (cached), records the decision in `ctx.session.boot`. Throws HookError. */
  decideBoot(ctx: DhcpContext): Promise<BootDecision>;
  /** Publishes a boot event for this packet's client. */
  emit(
    ctx: DhcpContext,
    type: string,
    outcome: 'ok' | 'denied' | 'error' | 'info',
    data: Record<string, unknown>,
    plugin?: string,
  ): void;
  now(): number;
}
