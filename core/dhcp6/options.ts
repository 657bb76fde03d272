/** Reading options out of a decoded message: the first of a kind, all of a kind, the client's classes. */
import { MessageType, OptionCode } from './constants.js';
import type { Dhcp6Option, Dhcp6OptionKind, Dhcp6Packet, Dhcp6RelayMessage, OptionOf } from './types.js';

/** The first option of `kind` in `options`, or undefined. */
export function findOption<K extends Dhcp6OptionKind>(
  options: readonly Dhcp6Option[],
  kind: K,
): OptionOf<K> | undefined {
  for (const o of options) if (o.kind === kind) return o as OptionOf<K>;
  return undefined;
}

/** Every option of `kind`, in wire order. */
export function findOptions<K extends Dhcp6OptionKind>(options: readonly Dhcp6Option[], kind: K): OptionOf<K>[] {
  return options.filter((o): o is OptionOf<K> => o.kind === kind);
}

/** The raw bytes of an option this codec keeps untyped (`{ kind: 'raw' }`), by code. */
export function rawOption(options: readonly Dhcp6Option[], code: number): Buffer | undefined {
  for (const o of options) if (o.kind === 'raw' && o.code === code) return o.data;
  return undefined;
}

/** Vendor class data items of option 16 as strings (`PXEClient:Arch:00007:UNDI:003000`). */
export function vendorClassStrings(options: readonly Dhcp6Option[]): string[] {
  return findOptions(options, 'vendor-class').flatMap((v) => v.data.map((d) => d.toString('latin1')));
}

/** User class items of option 15 as strings (`iPXE`). */
export function userClassStrings(options: readonly Dhcp6Option[]): string[] {
  return findOptions(options, 'user-class').flatMap((u) => u.classes.map((d) => d.toString('latin1')));
}

/**
 * Unwraps Relay-forward layers: the client's own message and the relay layers from the one nearest
 * the server (outermost) to the one nearest the client (innermost). Undefined when a relay has no
 * relay-msg option or the innermost message is itself not a client message.
 */
export function unwrapRelays(
  packet: Dhcp6Packet,
): { message: Extract<Dhcp6Packet, { kind: 'message' }>; relays: Dhcp6RelayMessage[] } | undefined {
  const relays: Dhcp6RelayMessage[] = [];
  let p: Dhcp6Packet = packet;
  while (p.kind === 'relay') {
    relays.push(p);
    const inner = findOption(p.options, 'relay-msg');
    if (!inner) return undefined;
    p = inner.message;
  }
  return { message: p, relays };
}

/**
 * Wraps a reply in Relay-reply layers for the relays `unwrapRelays` found (outermost first), innermost
 * first, each echoing its relay's Interface-ID (RFC 8415 §19.3).
 */
export function wrapRelayReplies(reply: Dhcp6Packet, relays: readonly Dhcp6RelayMessage[]): Dhcp6Packet {
  let out = reply;
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
  return out;
}

/**
 * The port a reply goes to: a client's own port (546) when it came direct; to a relay the server port
 * (`serverPort`, 547 — RFC 8415 §19.3), or the port the relay sent from when it carries the Relay Source
 * Port option (135, RFC 8357 §5.2).
 */
export function replyPort(relays: readonly Dhcp6RelayMessage[], sourcePort: number, serverPort: number): number {
  const outer = relays[0];
  if (!outer) return sourcePort;
  return rawOption(outer.options, OptionCode.RELAY_SOURCE_PORT) ? sourcePort : serverPort;
}

const KIND_CODES: Record<Exclude<Dhcp6OptionKind, 'raw'>, number> = {
  'client-id': 1,
  'server-id': 2,
  'ia-na': 3,
  'ia-ta': 4,
  iaaddr: 5,
  oro: 6,
  preference: 7,
  'elapsed-time': 8,
  'relay-msg': 9,
  unicast: 12,
  'status-code': 13,
  'rapid-commit': 14,
  'user-class': 15,
  'vendor-class': 16,
  'vendor-opts': 17,
  'interface-id': 18,
  'reconf-msg': 19,
  'reconf-accept': 20,
  'dns-servers': 23,
  'domain-list': 24,
  'ia-pd': 25,
  iaprefix: 26,
  'information-refresh-time': 32,
  'bootfile-url': 59,
  'bootfile-param': 60,
  'client-arch-type': 61,
  nii: 62,
  'client-linklayer-addr': 79,
  'sol-max-rt': 82,
  'inf-max-rt': 83,
};

/** The wire code of an option. */
export function optionCode(o: Dhcp6Option): number {
  return o.kind === 'raw' ? o.code : KIND_CODES[o.kind];
}
