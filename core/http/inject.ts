import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { StandInSocket } from './stand-in-socket.js';
import type { HttpListener } from './listener.js';

export interface HttpInjectRequest {
  method?: string;
  /** Request target as sent on the wire: `/boot.ipxe?mac=...` (not decoded, not normalised). */
  path: string;
  headers?: OutgoingHttpHeaders;
  /** Client address the handler sees (default 127.0.0.1). */
  remoteAddress?: string;
  /** Server address the request "arrived on" (`req.socket.localAddress`; default none, as an unknown interface). */
  localAddress?: string;
  /** Bound on the whole exchange (default 10 s). */
  timeoutMs?: number;
}

export interface HttpInjectResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One end of an in-memory connection. Writes go straight to the peer's readable side; ending one
 * side ends the peer's reading, and destroying one tears down both (as a TCP reset would).
 */
class MemorySocket extends StandInSocket {
  peer!: MemorySocket;
  remoteAddress: string;
  remotePort: number;
  remoteFamily: string;
  localAddress: string | undefined;
  #written = 0;
  constructor(remoteAddress: string, remotePort: number) {
    super();
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.remoteFamily = remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
  }
  override _read(): void {
    /* data is pushed by the peer */
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#written += chunk.length;
    if (!this.peer.destroyed) this.peer.push(chunk);
    cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Like TCP, the other end learns of the close a moment later, not in the same tick.
    setImmediate(() => {
      if (!this.peer.destroyed) this.peer.destroy();
    });
    cb(err);
  }
  get bytesWritten(): number {
    return this.#written;
  }
}

/**
 * Runs one request through the real http.Server parser and handler over an in-memory socket, and
 * parses the answer with node's HTTP client: no port, same code path as a real request.
 */
export async function injectHttp(listener: HttpListener, req: HttpInjectRequest): Promise<HttpInjectResponse> {
  const serverSide = new MemorySocket(req.remoteAddress ?? '127.0.0.1', 40000 + Math.floor(Math.random() * 20000));
  if (req.localAddress) serverSide.localAddress = req.localAddress;
  const clientSide = new MemorySocket('127.0.0.1', 80);
  serverSide.peer = clientSide;
  clientSide.peer = serverSide;
  listener.accept(serverSide);
  const method = (req.method ?? 'GET').toUpperCase();
  return new Promise<HttpInjectResponse>((resolve, reject) => {
    const timer = setTimeout(() => {
      clientSide.destroy();
      reject(new Error(`inject ${method} ${req.path}: no response within ${req.timeoutMs ?? 10_000} ms`));
    }, req.timeoutMs ?? 10_000);
    const creq = request(
      {
        method,
        path: req.path,
        headers: { host: 'inject', ...req.headers },
        createConnection: () => clientSide as unknown as import('node:net').Socket,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          // Resolve once the server side is done too (session updated, events out), unlike a real client.
          void listener.settled(serverSide).then(() => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
            clientSide.destroy();
          });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    creq.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    creq.end();
  });
}
