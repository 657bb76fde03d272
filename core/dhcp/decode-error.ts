/**
 * Errors of the DHCPv4 codec. The listener catches `DecodeError`, logs `reason` and drops the packet;
 * nothing else may escape `decode()` for any input.
 */

/** Why a packet (or one option value) could not be decoded. Stable strings, safe to use as log fields. */
export type DecodeReason =
  /** Shorter than the 236-byte BOOTP header plus the 4-byte magic cookie. */
  | 'truncated-header'
  /** Longer than the largest possible UDP payload (65,507 bytes). */
  | 'too-large'
  /** The 4 bytes after the BOOTP header are not 99.130.83.99 (RFC 2131 §3). */
  | 'bad-magic'
  /** `hlen` is over 16, the size of `chaddr`. */
  | 'bad-hlen'
  /** An option's code or length byte, or its value, runs past the end of its field. */
  | 'option-overrun'
  /** Option 52 (overload) has a length other than 1 or a value other than 1, 2 or 3 (RFC 2132 §9.3). */
  | 'bad-overload'
  /** Option 52 appears inside the `file` or `sname` field it overloads (it may only be in `options`). */
  | 'overload-loop'
  /** A known option's value has the wrong length or form for its type (from `getOption`). */
  | 'bad-option-value';

/** A malformed DHCP packet or option value. `reason` is a stable code; `message` says what and where. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly reason: DecodeReason;
  /** Byte offset in the packet where the problem was found, when that is meaningful. */
  readonly offset: number | undefined;

  constructor(reason: DecodeReason, message: string, offset?: number) {
    super(message);
    this.reason = reason;
    this.offset = offset;
  }
}

/** Why `encode()` refused a packet. */
export type EncodeReason =
  /** The options do not fit in `maxSize`, even overloading the empty `file`/`sname` fields. */
  | 'too-large'
  /** A fixed field is out of range (an address that is not dotted IPv4, `sname` over 63 bytes, ...). */
  | 'bad-field'
  /** A typed option value cannot be encoded (wrong type, out of range, too long). */
  | 'bad-option-value';

/** A packet or value that cannot be encoded; a programming or configuration error, not bad input. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  readonly reason: EncodeReason;

  constructor(reason: EncodeReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
