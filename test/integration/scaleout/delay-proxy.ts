/**
 * A TCP proxy run as its own process (in the Redis host's namespace) for the slow-Redis fault:
 * `node --import tsx delay-proxy.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS`.
 * SIGUSR1 delays every reply chunk by DELAY_MS, SIGUSR2 stops delaying. A connection whose upstream
 * fails is closed, as Redis's own would be.
 */
import { connect, createServer, type Socket } from 'node:net';

const [host, port, targetHost, targetPort, delay] = process.argv.slice(2);
let delayMs = 0;
process.on('SIGUSR1', () => (delayMs = Number(delay)));
process.on('SIGUSR2', () => (delayMs = 0));
process.on('SIGTERM', () => process.exit(0));

/**
 * Replies leave strictly in order, even when the delay changes mid-stream: one FIFO per connection
 * and one timer for its head. (A timer per chunk reorders chunks whose due times meet, and a
 * reordered RESP stream hands replies to the wrong commands.)
 */
function delayedWriter(to: Socket): (d: Buffer) => void {
  const queue: Array<{ at: number; d: Buffer }> = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    while (queue.length && queue[0]!.at <= Date.now()) if (!to.destroyed) to.write(queue.shift()!.d);
    if (queue.length) timer = setTimeout(drain, Math.max(1, queue[0]!.at - Date.now()));
  };
  return (d) => {
    queue.push({ at: Date.now() + delayMs, d });
    if (!timer) drain();
  };
}

createServer((client) => {
  const upstream = connect(Number(targetPort), targetHost);
  for (const s of [client, upstream]) {
    s.on('error', () => undefined);
    s.on('close', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  client.on('data', (d: Buffer) => upstream.write(d));
  upstream.on('data', delayedWriter(client));
}).listen(Number(port), host, () => console.log('listening'));
