/**
 * A TCP proxy in front of a test Redis that can delay every chunk (a slow Redis or network) or hold
 * everything (a cut path: nothing is lost, it is delivered when the cut heals, as TCP retransmission
 * would). Listens on 127.0.0.1, a free port; closed in `t.after`.
 */
import { createServer, connect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

export interface RedisProxy {
  url: string;
  /** Delay every chunk, both ways, by this many ms (0 = none). */
  delayMs: number;
  /** Hold all traffic (and new connections' traffic) until `heal()`. */
  cut(): void;
  heal(): void;
}

export async function startRedisProxy(t: TestContext, target: { port: number }): Promise<RedisProxy> {
  let cut = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const proxy: RedisProxy = {
    url: '',
    delayMs: 0,
    cut: () => {
      cut = true;
    },
    heal: () => {
      cut = false;
      for (const f of held.splice(0)) f();
    },
  };
  const pipe = (from: Socket, to: Socket) =>
    from.on('data', (d: Buffer) => {
      const send = () => {
        if (!to.destroyed) to.write(d);
      };
      const later = () => (proxy.delayMs > 0 ? setTimeout(send, proxy.delayMs) : send());
      if (cut) held.push(later);
      else later();
    });
  const server = createServer((client) => {
    const upstream = connect(target.port, '127.0.0.1');
    sockets.add(client).add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  proxy.url = `redis://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return proxy;
}
