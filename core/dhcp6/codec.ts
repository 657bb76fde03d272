/**
 * DHCPv6 wire codec (RFC 8415, RFC 5970, RFC 6939): `decode`, `encode`, `encodingLength`, pure
 * functions with no sockets. This folder knows nothing of the server, config or plugins above it.
 */
export { decode, MAX_MESSAGE_SIZE } from './decode.js';
export { encode, encodingLength, encodeOption } from './encode.js';
export * from './constants.js';
export * from './errors.js';
export type * from './types.js';
export {
  findOption,
  findOptions,
  optionCode,
  rawOption,
  vendorClassStrings,
  userClassStrings,
  unwrapRelays,
  wrapRelayReplies,
  replyPort,
} from './options.js';
export { parseDuid, duidMac, duidHex, parseDuidHex, macFromLinkLocal, macOf, type ParsedDuid } from './duid.js';
export { readAddress, canonicalAddress, addressBytes } from './address.js';
