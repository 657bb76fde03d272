/** pxekit TFTP server core: see server.ts for the listener, transfer.ts for one transfer. */
export { TftpServer } from './server.js';
export { ReadTransfer } from './transfer.js';
export { TftpRefusal } from './refusal.js';
export { injectTftp, INJECT_MAX_BYTES, type TftpInjectRequest, type TftpInjectResult } from './inject.js';
export { PositionalBlockSource } from './positional-source.js';
export { normalizeVirtualPath, type PathResult, type NormalizeOptions } from '../files/path.js';
export * from './codec.js';
export { negotiateOptions, sanitizeOptions, type NegotiationLimits, type TransferParams } from './options.js';
export { mtuBlksizeFor } from './mtu.js';
export type { Clock, TimerHandle } from './clock.js';
export type * from './types.js';
