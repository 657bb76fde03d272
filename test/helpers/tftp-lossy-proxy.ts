/**
 * A loopback UDP proxy for one TFTP client that drops, duplicates and reorders datagrams with a seeded
 * PRNG, so loss handling is testable without root or netem. The client talks to `port`; the proxy relays
 * the RRQ to the server's listening port and everything else to the server's latest transfer port.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface LossyOptions {
  serverPort: number;
  /** Probability a datagram is dropped, each direction (e.g. 0.1). */
  loss: number;
  /** Probability a datagram is sent twice. */
  duplicate: number;
  /** Probability a datagram is held back 1–15 ms (reordering). */
  reorder: number;
  seed: number;
  /** Datagrams the proxy never drops: the first N from the client (so the RRQ gets through). */
  spareFirst?: number;
}

export interface LossyProxy {
  port: number;
  stats: { dropped: number; duplicated: number; delayed: number; relayed: number };
  close: () => void;
}

export async function startLossyProxy(o: LossyOptions): Promise<LossyProxy> {
  let seed = o.seed >>> 0 || 1;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const front = createSocket('udp4'); // faces the client
  const back = createSocket('udp4'); // faces the server
  const timers = new Set<NodeJS.Timeout>();
  const stats = { dropped: 0, duplicated: 0, delayed: 0, relayed: 0 };
  let client: { port: number } | undefined;
  let serverTid: number | undefined;
  let fromClient = 0;
  let closed = false;

  const deliver = (sock: Socket, msg: Buffer, port: number, spare: boolean) => {
    if (closed) return;
    if (!spare && rnd() < o.loss) return void stats.dropped++;
    const copies = !spare && rnd() < o.duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      if (!spare && rnd() < o.reorder) {
        stats.delayed++;
        const t = setTimeout(
          () => {
            timers.delete(t);
            if (!closed) sock.send(msg, port, '127.0.0.1');
          },
          1 + Math.floor(rnd() * 15),
        );
        timers.add(t);
      } else {
        stats.relayed++;
        sock.send(msg, port, '127.0.0.1');
      }
    }
  };

  front.on('message', (msg, rinfo) => {
    client ??= { port: rinfo.port };
    const isRequest = msg.length >= 2 && (msg[1] === 1 || msg[1] === 2) && msg[0] === 0;
    const spare = fromClient++ < (o.spareFirst ?? 1);
    deliver(back, msg, isRequest || serverTid === undefined ? o.serverPort : serverTid, spare);
  });
  back.on('message', (msg, rinfo) => {
    if (rinfo.port !== o.serverPort) serverTid = rinfo.port;
    if (client) deliver(front, msg, client.port, false);
  });
  await Promise.all([
    new Promise<void>((r) => front.bind(0, '127.0.0.1', r)),
    new Promise<void>((r) => back.bind(0, '127.0.0.1', r)),
  ]);
  return {
    port: front.address().port,
    stats,
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      front.close();
      back.close();
    },
  };
}
