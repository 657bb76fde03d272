/**
 * The decoded shape of DHCPv6 messages and options. Every option is a tagged object (`kind`);
 * options this codec has no type for stay `{ kind: 'raw', code, data }` so they round-trip unchanged.
 * IPv6 addresses are strings in RFC 5952 form (`fd77::1`).
 */

/** A client/server message (everything except Relay-forward and Relay-reply). */
export interface Dhcp6Message {
  kind: 'message';
  msgType: number;
  /** 24-bit transaction id. */
  transactionId: number;
  options: Dhcp6Option[];
}

/** Relay-forward (12) or Relay-reply (13): the relayed message is in a `relay-msg` option. */
export interface Dhcp6RelayMessage {
  kind: 'relay';
  msgType: number;
  hopCount: number;
  linkAddress: string;
  peerAddress: string;
  options: Dhcp6Option[];
}

export type Dhcp6Packet = Dhcp6Message | Dhcp6RelayMessage;

/** One sub-option of option 17 (vendor-specific information). */
export interface VendorSubOption {
  code: number;
  data: Buffer;
}

export type Dhcp6Option =
  | { kind: 'client-id'; duid: Buffer }
  | { kind: 'server-id'; duid: Buffer }
  | { kind: 'ia-na'; iaid: number; t1: number; t2: number; options: Dhcp6Option[] }
  | { kind: 'ia-ta'; iaid: number; options: Dhcp6Option[] }
  | { kind: 'iaaddr'; address: string; preferredLifetime: number; validLifetime: number; options: Dhcp6Option[] }
  | { kind: 'oro'; codes: number[] }
  | { kind: 'preference'; value: number }
  /** Hundredths of a second since the client began this exchange (0xffff = longer). */
  | { kind: 'elapsed-time'; centiseconds: number }
  | { kind: 'relay-msg'; message: Dhcp6Packet }
  | { kind: 'unicast'; address: string }
  | { kind: 'status-code'; status: number; message: string }
  | { kind: 'rapid-commit' }
  | { kind: 'user-class'; classes: Buffer[] }
  | { kind: 'vendor-class'; enterprise: number; data: Buffer[] }
  | { kind: 'vendor-opts'; enterprise: number; options: VendorSubOption[] }
  | { kind: 'interface-id'; id: Buffer }
  | { kind: 'reconf-msg'; msgType: number }
  | { kind: 'reconf-accept' }
  | { kind: 'dns-servers'; addresses: string[] }
  | { kind: 'domain-list'; domains: string[] }
  | { kind: 'ia-pd'; iaid: number; t1: number; t2: number; options: Dhcp6Option[] }
  | {
      kind: 'iaprefix';
      preferredLifetime: number;
      validLifetime: number;
      prefixLength: number;
      prefix: string;
      options: Dhcp6Option[];
    }
  | { kind: 'information-refresh-time'; seconds: number }
  | { kind: 'bootfile-url'; url: string }
  | { kind: 'bootfile-param'; params: string[] }
  /** RFC 5970 option 61: the client's architecture types (RFC 4578 registry, as option 93). */
  | { kind: 'client-arch-type'; types: number[] }
  /** RFC 5970 option 62: network interface identifier (type 1 = UNDI, then major/minor version). */
  | { kind: 'nii'; type: number; major: number; minor: number }
  /** RFC 6939 option 79, added by relays: hardware type and the client's link-layer address. */
  | { kind: 'client-linklayer-addr'; linkType: number; address: Buffer }
  | { kind: 'sol-max-rt'; seconds: number }
  | { kind: 'inf-max-rt'; seconds: number }
  | { kind: 'raw'; code: number; data: Buffer };

export type Dhcp6OptionKind = Dhcp6Option['kind'];
/** The option object of one kind, e.g. `OptionOf<'ia-na'>`. */
export type OptionOf<K extends Dhcp6OptionKind> = Extract<Dhcp6Option, { kind: K }>;
