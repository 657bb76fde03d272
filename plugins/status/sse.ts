import type { ServerResponse } from 'node:http';

/** A slow reader may hold this much unsent data before it is cut off (the page reconnects). */
const MAX_BUFFERED = 1 << 20;

export interface SseHubOptions {
  maxClients: number;
  heartbeatMs: number;
}

/**
 * Server-sent-event connections of the status page: bounded in number, heartbeated (so proxies and
 * the HTTP listener's idle timeout keep them), dropped when they stop reading, forgotten on close.
 */
export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #o: SseHubOptions;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(opts: SseHubOptions) {
    this.#o = opts;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Takes over `res` as an event stream and sends `first` (the snapshot); false when full. */
  add(res: ServerResponse, first: { event: string; data: unknown }): boolean {
    if (this.#clients.size >= this.#o.maxClients) return false;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.socket?.setNoDelay?.(true);
    this.#clients.add(res);
    const forget = () => this.#remove(res);
    res.once('close', forget);
    res.once('error', forget);
    res.write('retry: 2000\n\n');
    this.#send(res, first.event, first.data);
    this.#heartbeat ??= setInterval(() => this.#beat(), this.#o.heartbeatMs).unref();
    return true;
  }

  broadcast(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const frame = frameOf(event, data);
    for (const res of this.#clients) this.#write(res, frame);
  }

  /** Ends every stream (server closing). */
  endAll(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#stopBeat();
  }

  #send(res: ServerResponse, event: string, data: unknown): void {
    this.#write(res, frameOf(event, data));
  }

  #write(res: ServerResponse, frame: string): void {
    if (res.destroyed || res.writableEnded) {
      this.#remove(res);
      return;
    }
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      this.#remove(res);
      return;
    }
    res.write(frame);
  }

  #beat(): void {
    for (const res of this.#clients) this.#write(res, `: heartbeat ${Date.now()}\n\n`);
  }

  #remove(res: ServerResponse): void {
    this.#clients.delete(res);
    if (this.#clients.size === 0) this.#stopBeat();
  }

  #stopBeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

/** One SSE frame. JSON has no raw newlines, so one `data:` line is enough. */
function frameOf(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
