/**
 * Where a transfer's DATA blocks come from: positional reads (PositionalBlockSource: page-cache blocks
 * straight into the packet, else one reused buffer) when the source offers `openReader` and the mode is
 * octet, else the source's stream (BlockSource: bounded read-ahead, netascii conversion).
 */
import { BlockSource } from './block-source.js';
import { PositionalBlockSource } from './positional-source.js';
import type { ReadTransferOptions } from './transfer-types.js';

/** What the transfer pulls blocks from: BlockSource (a stream) or PositionalBlockSource (positional reads). */
export interface BlockFeed {
  fill(target: Buffer, offset: number, len: number): number | undefined;
  onReady(cb: () => void): void;
  destroy(): void;
  readonly error: Error | undefined;
}

/** Opens the file for one transfer; `highWater` is the read-ahead the transfer wants (about one window). */
export async function openBlockFeed(
  o: Pick<ReadTransferOptions, 'open' | 'openReader' | 'size' | 'readAheadBytes' | 'netascii'>,
  highWater: number,
): Promise<BlockFeed> {
  const { openReader, size } = o;
  if (openReader && size !== undefined && !o.netascii) {
    const reader = await openReader();
    return new PositionalBlockSource(reader, size, Math.max(highWater, o.readAheadBytes ?? 0));
  }
  return new BlockSource(await o.open(), o.netascii ?? false, highWater);
}
