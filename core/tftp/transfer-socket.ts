/**
 * The one seam between a TFTP transfer and what carries its packets. The server chooses the kind once, when
 * it is made (`chooseTransferSockets`): the native addon's connected sockets (core/native: less CPU per
 * packet, armed lock-step replies), node:dgram sockets, or the listening socket in single-port mode; inject
 * hands in an in-memory client. Session and transfer see only `TransferSocket`, so a transfer has one send
 * path whatever is underneath, and nothing above this file knows the addon exists.
 */
import { createSocket } from 'node:dgram';
import { NativeUdpSocket, nativeUdp, type ChainSource } from '../native/udp-socket.js';

export type { ChainSource } from '../native/udp-socket.js';
import { OP_ACK } from './codec.js';

/** What a transfer sends through. */
export interface TransferSocket {
  /** Sends `buf[0, len)` (default: all of it). Never throws: a failure shows as the client's silence. */
  send(buf: Buffer, len?: number): void;
  /**
   * Lock-step fast path: send `packet[0, len)` without waiting for JavaScript the moment the client's ACK of
   * wire block `ackWire` arrives, then report that ACK with `replied` true. `packet` must not change while
   * armed. One-shot. False: not armed (the socket cannot, or sends are queued) — the transfer sends as usual.
   */
  armReply(ackWire: number, packet: Buffer, len: number): boolean;
  /**
   * armReply that goes on by itself (native sockets): each time the armed block goes out, the socket reads
   * the next from `chain.fd` (page cache only) into the other lock-step slot and arms it, with no JavaScript
   * per block, until the block that ends the file, one not cached, or a failed send. The ACKs it answered
   * are reported as `steps` with the next packet, or by `chainSteps`. False: not armed (use armReply).
   */
  armChain(ackWire: number, packet: Buffer, len: number, chain: ChainSource): boolean;
  /** ACKs the chain answered that were not reported yet (reset to 0). */
  chainSteps(): number;
  /** Cancels an armed reply or chain (the transfer ended or will send otherwise). */
  disarm(): void;
  /** Frees the socket; later sends are ignored. */
  close(): void;
}

/** What a transfer socket reports. */
export interface TransferSocketEvents {
  /**
   * A datagram of `len` bytes in `buf`, valid only during the call (`len > buf.length`: truncated).
   * `replied`: it was the ACK an armed reply answered, already sent. `steps`: ACKs an armed chain answered
   * before this packet, to account for first (ReadTransfer.chained).
   */
  onPacket(buf: Buffer, len: number, replied: boolean, steps: number): void;
  /** ECONNREFUSED after an ICMP port unreachable, and other socket errors. */
  onError(err: NodeJS.ErrnoException): void;
  /** The native chain could not read the file again (it shrank): the transfer fails as a read error. */
  onReadError?(err: NodeJS.ErrnoException): void;
}

/** Opens a socket bound to `local`:ephemeral and connected to the client (RFC 1350 transfer IDs). */
export type OpenTransferSocket = (
  local: string,
  client: { address: string; port: number },
  events: TransferSocketEvents,
) => Promise<TransferSocket>;

export type TransportOption = 'auto' | 'native' | 'dgram';

/** The server's choice, made once. */
export interface TransferSockets {
  /** Undefined in single-port mode: transfers send from the listening socket. */
  open: OpenTransferSocket | undefined;
  transport: 'native' | 'dgram' | 'single-port';
  /** Why `auto` or `native` ended up on node:dgram (logged at listen; `native` then refuses to start). */
  nativeUnavailable?: string;
}

export function chooseTransferSockets(transport: TransportOption, singlePort: boolean): TransferSockets {
  if (singlePort) return { open: undefined, transport: 'single-port' };
  if (transport === 'dgram') return { open: openDgramSocket, transport: 'dgram' };
  const native = nativeUdp();
  if (native.available) return { open: openNativeSocket, transport: 'native' };
  return { open: openDgramSocket, transport: 'dgram', nativeUnavailable: native.reason ?? 'unknown' };
}

/** A socket that only sends, through `send` (the listening socket in single-port mode; inject's client). */
export function sendOnlySocket(send: (buf: Buffer) => void): TransferSocket {
  return {
    send: (buf, len = buf.length) => send(len === buf.length ? buf : buf.subarray(0, len)),
    armReply: () => false,
    armChain: () => false,
    chainSteps: () => 0,
    disarm: () => undefined,
    close: () => undefined,
  };
}

/** Through the addon (udp-socket.c): a reused receive buffer, send(2), armed replies keyed by the ACK's first 4 bytes. */
const openNativeSocket: OpenTransferSocket = (local, client, events) => {
  try {
    const sock = new NativeUdpSocket(local, client.address, client.port, events);
    return Promise.resolve({
      send: (buf, len) => sock.send(buf, len),
      armReply: (ackWire, packet, len) => sock.armReply(((OP_ACK << 16) | ackWire) >>> 0, packet, len),
      armChain: (ackWire, packet, len, chain) => sock.armChain(((OP_ACK << 16) | ackWire) >>> 0, packet, len, chain),
      chainSteps: () => sock.chainSteps(),
      disarm: () => sock.disarm(),
      close: () => sock.close(),
    });
  } catch (err) {
    return Promise.reject(err as Error);
  }
};

/** Through node:dgram: bind(0) + connect(); no armed replies or chains. */
const openDgramSocket: OpenTransferSocket = (local, client, events) => {
  const sock = createSocket(local.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    sock.once('error', (err) => {
      sock.close();
      reject(err);
    });
    sock.bind(0, local, () => {
      sock.connect(client.port, client.address, () => {
        sock.removeAllListeners('error');
        sock.on('error', (err: NodeJS.ErrnoException) => events.onError(err));
        sock.on('message', (msg) => events.onPacket(msg, msg.length, false, 0));
        resolve({
          send: (buf, len = buf.length) => {
            try {
              sock.send(buf, 0, len);
            } catch {
              /* socket already closed: the transfer is finishing */
            }
          },
          armReply: () => false,
          armChain: () => false,
          chainSteps: () => 0,
          disarm: () => undefined,
          close: () => {
            sock.removeAllListeners('message');
            try {
              sock.close();
            } catch {
              /* already closed */
            }
          },
        });
      });
    });
  });
};
