/**
 * A minimal TFTP client that records which address every answer came from (`rinfo.address`), for the
 * source-address tests (test/integration/tftp/source-address.test.ts). Run it where the server's
 * addresses are reachable (a client namespace):
 *   node --import tsx test/helpers/tftp-source-probe.ts PORT FILE ADDRESS...
 * For each ADDRESS (`10.0.0.2`, `fd00::2`, `fe80::2%eth0`) it sends, each from a fresh socket:
 *   oack:   RRQ FILE with blksize 512 → the OACK, then ACK 0 → DATA 1 (recorded as `oack` and `oack-data`)
 *   data:   RRQ FILE without options → DATA 1
 *   wrq:    a write request → ERROR (from the listening port)
 *   bad:    an unknown opcode → ERROR 4 (from the listening port)
 *   absent: RRQ of a file that does not exist → ERROR 1 (from the listening port)
 * and prints one JSON line: [{ target, kind, from, op }] (`from` undefined: no answer within 2 s).
 * Transfers are ended with an ERROR after their first DATA so the server frees them at once.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

const [portArg, file, ...targets] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || !file || targets.length === 0) {
  throw new Error('usage: tftp-source-probe.ts PORT FILE ADDRESS...');
}

interface Answer {
  target: string;
  kind: string;
  from: string | undefined;
  op: number | undefined;
}

const rrq = (name: string, options: Record<string, string> = {}): Buffer =>
  Buffer.concat([
    Buffer.from([0, 1]),
    Buffer.from(`${name}\0octet\0`),
    ...Object.entries(options).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)),
  ]);
const wrq = (name: string): Buffer => Buffer.concat([Buffer.from([0, 2]), Buffer.from(`${name}\0octet\0`)]);
const ack = (block: number): Buffer => Buffer.from([0, 4, block >> 8, block & 255]);
const abort = Buffer.concat([Buffer.from([0, 5, 0, 0]), Buffer.from('probe done\0')]);

function next(sock: Socket, ms = 2000): Promise<{ msg: Buffer; rinfo: RemoteInfo } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.off('message', on);
      resolve(undefined);
    }, ms);
    const on = (msg: Buffer, rinfo: RemoteInfo) => {
      clearTimeout(timer);
      resolve({ msg, rinfo });
    };
    sock.once('message', on);
  });
}

async function exchange(target: string, kind: string, out: Answer[]): Promise<void> {
  const sock = createSocket(target.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => sock.bind(0, r));
  // Requests go to `target`; the rest, like real clients, to where the answer came from.
  const send = (buf: Buffer, p = port, to = target) => new Promise<void>((r) => sock.send(buf, p, to, () => r()));
  const record = (k: string, a: { msg: Buffer; rinfo: RemoteInfo } | undefined) =>
    out.push({ target, kind: k, from: a?.rinfo.address, op: a?.msg.readUInt16BE(0) });
  try {
    if (kind === 'oack') {
      await send(rrq(file!, { blksize: '512' }));
      const a = await next(sock);
      record('oack', a);
      if (!a) return;
      await send(ack(0), a.rinfo.port, a.rinfo.address);
      const d = await next(sock);
      record('oack-data', d);
      await send(abort, a.rinfo.port, a.rinfo.address);
    } else if (kind === 'data') {
      await send(rrq(file!));
      const a = await next(sock);
      record('data', a);
      if (a) await send(abort, a.rinfo.port, a.rinfo.address);
    } else {
      await send(kind === 'wrq' ? wrq('upload.bin') : kind === 'bad' ? Buffer.from([0, 9, 1]) : rrq('absent.bin'));
      record(kind, await next(sock));
    }
  } finally {
    sock.close();
  }
}

const answers: Answer[] = [];
for (const target of targets) {
  for (const kind of ['oack', 'data', 'wrq', 'bad', 'absent']) await exchange(target, kind, answers);
}
process.stdout.write(JSON.stringify(answers) + '\n');
