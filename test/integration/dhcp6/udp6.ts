/**
 * A pxekit server with DHCPv6 on ::1 (ephemeral ports) and a UDP socket that talks to it, for tests that go
 * through the real sockets without a namespace: one datagram out, the answers that come back within a bound.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { createServer } from '../../../core/create-server.js';
import { createLogger } from '../../../core/log.js';
import type { PxeServer } from '../../../core/server.js';
import type { PluginDefinition } from '../../../core/plugin.js';
import { decode, encode, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';

export type LogLine = Record<string, unknown> & { event?: string };

export interface Server6 {
  server: PxeServer;
  lines: LogLine[];
  /** Bound ports: DHCPv6 and (boot-only) the PXE boot server. */
  port: number;
  pxePort: number | undefined;
}

/** Starts a server with `dhcp6` merged over boot-only defaults on ::1 (DHCPv4, TFTP and HTTP off). */
export async function startServer6(dhcp6: Record<string, unknown>, plugins: PluginDefinition[]): Promise<Server6> {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  const server = createServer({
    dhcp: { mode: 'off' },
    dhcp6: { serverAddress: '::1', serverDuid: '00:03:00:01:02:00:00:00:00:01', port: 0, pxePort: 0, ...dhcp6 },
    tftp: { enabled: false },
    http: { enabled: false },
    logger: createLogger({ level: 'debug', destination }),
    plugins,
  });
  const listening = await server.start();
  const dhcp = listening.find((l) => l.protocol === 'dhcp' && l.address === '::');
  const pxe = listening.find((l) => l.protocol === 'pxe');
  if (!dhcp) throw new Error(`no DHCPv6 listener: ${JSON.stringify(listening)}`);
  return { server, lines, port: dhcp.port, pxePort: pxe?.port };
}

/** A UDP socket on ::1 that sends one packet and collects the decoded answers for `waitMs`. */
export async function exchange(
  to: number,
  packet: Dhcp6Packet,
  waitMs = 1500,
  from = 0,
): Promise<{ answers: Dhcp6Packet[]; port: number }> {
  const socket = dgram.createSocket({ type: 'udp6' });
  try {
    socket.bind(from, '::1');
    await once(socket, 'listening');
    const answers: Dhcp6Packet[] = [];
    socket.on('message', (buf) => answers.push(decode(buf)));
    socket.send(encode(packet), to, '::1');
    // Bounded: stop at the first answer or after waitMs.
    const end = Date.now() + waitMs;
    while (answers.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    return { answers, port: socket.address().port };
  } finally {
    socket.close();
  }
}
