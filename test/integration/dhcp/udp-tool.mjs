// Small UDP helper run inside a test namespace (plain Node, no deps).
//   node udp-tool.mjs listen <port> <seconds> <outFile>      record every datagram as a JSON line
//   node udp-tool.mjs ask <bindPort> <host> <port> <hex> <ms> send one datagram, print the first reply as JSON
import { createSocket } from 'node:dgram';
import { appendFileSync } from 'node:fs';

const [mode, ...a] = process.argv.slice(2);
const s = createSocket({ type: 'udp4', reuseAddr: true });
if (mode === 'listen') {
  const [port, seconds, out] = a;
  s.on('message', (m, r) =>
    appendFileSync(out, JSON.stringify({ from: `${r.address}:${r.port}`, hex: m.toString('hex') }) + '\n'),
  );
  s.bind(Number(port), () => {
    s.setBroadcast(true);
    appendFileSync(out, '');
  });
  setTimeout(
    () => {
      s.close();
      process.exit(0);
    },
    Number(seconds) * 1000,
  );
} else if (mode === 'ask') {
  const [bindPort, host, port, hex, ms] = a;
  const timer = setTimeout(() => {
    process.stdout.write('{"timeout":true}\n');
    process.exit(1);
  }, Number(ms));
  s.on('message', (m, r) => {
    clearTimeout(timer);
    process.stdout.write(JSON.stringify({ from: `${r.address}:${r.port}`, hex: m.toString('hex') }) + '\n');
    s.close();
  });
  s.bind(Number(bindPort), () => s.send(Buffer.from(hex, 'hex'), Number(port), host));
} else {
  process.stderr.write('usage: listen|ask\n');
  process.exit(2);
}
