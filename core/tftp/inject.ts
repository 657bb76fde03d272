/**
 * `server.tftp.inject()`: one read request without a socket. The request is encoded and decoded as on
 * the wire, then runs through the same Session, plan (admit, hooks, resolve, negotiation), ReadTransfer
 * and block source as a UDP request; only the transport differs: an in-memory client that ACKs every
 * window (RFC 7440) and collects the DATA payloads. Boot events and session bytes are recorded exactly
 * as for a real client. Files above `maxBytes` (default 64 MiB) are refused before the first block.
 */
import { decodePacket, encodeRequest, TftpDecodeError, TftpErrorCode, type TftpPacket } from './codec.js';
import { TftpRefusal } from './refusal.js';
import type { TransferPlan } from './request.js';
import type { TftpServer } from './server.js';
import type { Session, SessionLink } from './session.js';
import { sendOnlySocket, type TransferSocket } from './transfer-socket.js';

export const INJECT_MAX_BYTES = 64 * 1024 * 1024;

export interface TftpInjectRequest {
  /** The file name as a client would send it (normalised and checked like any RRQ). */
  path: string;
  /** RRQ options (`blksize`, `tsize`, `windowsize`, `timeout`), as strings like on the wire. */
  options?: Record<string, string>;
  /** Transfer mode (default `octet`). */
  mode?: string;
  /** Client address used for the session lookup and admit (default 127.0.0.1). */
  remoteAddress?: string;
}

export interface TftpInjectResult {
  /** The whole file arrived. */
  ok: boolean;
  /** The ERROR the client got (sent by the server, or by this in-memory client when over the size bound). */
  errorCode?: number;
  errorMessage?: string;
  /** The OACK, if the server sent one. */
  oack?: Record<string, string>;
  /** The bytes as they went on the wire (netascii mode: converted). */
  data?: Buffer;
}

/** The in-memory client side of one injected transfer. */
class MemoryClient implements SessionLink {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #received = 0; // absolute number of the last in-order block
  #lastAcked = 0;
  #complete = false;
  #ws = 1;
  #blksize = 512;
  #session: Session | undefined;
  #failure: { code: number; message: string } | undefined;
  #oack: Record<string, string> | undefined;
  #finished!: () => void;
  readonly over = new Promise<void>((r) => (this.#finished = r));

  readonly #maxBytes: number;
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  error(code: number, message: string): void {
    this.#record(code, message);
  }

  #record(code: number, message: string): void {
    this.#failure ??= { code, message };
  }

  async connect(plan: TransferPlan, session: Session): Promise<TransferSocket> {
    if (plan.handle.size > this.#maxBytes) {
      throw new TftpRefusal(
        TftpErrorCode.DiskFull,
        `file too large for inject (${plan.handle.size} bytes, limit ${this.#maxBytes})`,
      );
    }
    this.#session = session;
    this.#ws = plan.params.windowsize;
    this.#blksize = plan.params.blksize;
    return sendOnlySocket((buf) => this.#receive(buf));
  }

  closed(): void {
    this.#finished();
  }

  result(): TftpInjectResult {
    const out: TftpInjectResult = { ok: this.#complete && this.#failure === undefined };
    if (this.#failure) {
      out.errorCode = this.#failure.code;
      out.errorMessage = this.#failure.message;
    }
    if (this.#oack) out.oack = this.#oack;
    if (this.#complete) out.data = Buffer.concat(this.#chunks, this.#bytes);
    return out;
  }

  /** A packet from the server. Replies go out on a later tick: the transfer is still inside its send(). */
  #receive(buf: Buffer): void {
    let pkt: TftpPacket;
    try {
      pkt = decodePacket(buf);
    } catch {
      return;
    }
    if (pkt.op === 'oack') {
      this.#oack = Object.fromEntries(pkt.options.values);
      this.#reply({ op: 'ack', block: 0 });
    } else if (pkt.op === 'error') {
      this.#record(pkt.code, pkt.message);
    } else if (pkt.op === 'data') {
      this.#onData(pkt.block, pkt.data);
    }
  }

  #onData(wire: number, data: Buffer): void {
    if (this.#complete) return;
    const block = this.#received + 1 + ((wire - ((this.#received + 1) & 0xffff)) & 0xffff);
    if (block !== this.#received + 1) {
      // A resend after a timeout (a slow source): say again where we are.
      if (block <= this.#received) this.#reply({ op: 'ack', block: this.#lastAcked & 0xffff });
      return;
    }
    this.#received = block;
    this.#bytes += data.length;
    if (this.#bytes > this.#maxBytes) {
      this.#record(TftpErrorCode.DiskFull, `inject: more than ${this.#maxBytes} bytes`);
      this.#reply({ op: 'error', code: TftpErrorCode.DiskFull, message: 'too large' });
      return;
    }
    this.#chunks.push(Buffer.from(data)); // the transfer reuses its ring buffers: copy
    const last = data.length < this.#blksize;
    if (last) this.#complete = true;
    if (last || block % this.#ws === 0 || block - this.#lastAcked >= this.#ws) {
      this.#lastAcked = block;
      this.#reply({ op: 'ack', block: block & 0xffff });
    }
  }

  #reply(pkt: TftpPacket): void {
    const s = this.#session;
    if (s) setImmediate(() => s.handle(pkt));
  }
}

export async function injectTftp(
  engine: TftpServer,
  r: TftpInjectRequest,
  maxBytes = INJECT_MAX_BYTES,
): Promise<TftpInjectResult> {
  const client = { address: r.remoteAddress ?? '127.0.0.1', port: 0 };
  const options = Object.entries(r.options ?? {}).map(([k, v]): [string, string] => [k, String(v)]);
  let pkt: TftpPacket;
  try {
    pkt = decodePacket(encodeRequest('rrq', r.path, r.mode ?? 'octet', options));
  } catch (err) {
    // What the listener answers to a malformed RRQ.
    const reason = err instanceof TftpDecodeError ? err.reason : String(err);
    return { ok: false, errorCode: TftpErrorCode.IllegalOperation, errorMessage: `illegal operation: ${reason}` };
  }
  if (pkt.op !== 'rrq')
    return { ok: false, errorCode: TftpErrorCode.IllegalOperation, errorMessage: 'illegal operation' };
  const link = new MemoryClient(maxBytes);
  await engine.runLinked(pkt, client, link);
  await link.over;
  return link.result();
}
