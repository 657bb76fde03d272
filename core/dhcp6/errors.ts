/**
 * Errors of the DHCPv6 codec. A listener catches `Dhcp6DecodeError`, logs `reason` and drops the
 * packet: nothing else may escape `decode()` for any input.
 */

/** Why a DHCPv6 message could not be decoded. Stable strings, safe as log fields. */
export type Dhcp6DecodeReason =
  /** Shorter than the 4-byte client/server header or the 34-byte relay header. */
  | 'truncated-header'
  /** Longer than the largest UDP payload (65,527 bytes over IPv6 without jumbograms). */
  | 'too-large'
  /** An option's 4-byte header or its value runs past the end of the message (or its enclosing option). */
  | 'option-overrun'
  /** A known option's value has the wrong length or form for its type. */
  | 'bad-option-value'
  /** Relay messages nested deeper than the codec accepts (HOP_COUNT_LIMIT + 1 levels). */
  | 'relay-too-deep';

export class Dhcp6DecodeError extends Error {
  override readonly name = 'Dhcp6DecodeError';
  readonly reason: Dhcp6DecodeReason;
  /** Byte offset in the message where the problem was found, when meaningful. */
  readonly offset: number | undefined;

  constructor(reason: Dhcp6DecodeReason, message: string, offset?: number) {
    super(message);
    this.reason = reason;
    this.offset = offset;
  }
}

/** Why `encode()` refused a message: a programming or configuration error, not bad input. */
export type Dhcp6EncodeReason = 'too-large' | 'bad-field' | 'bad-option-value';

export class Dhcp6EncodeError extends Error {
  override readonly name = 'Dhcp6EncodeError';
  readonly reason: Dhcp6EncodeReason;

  constructor(reason: Dhcp6EncodeReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
