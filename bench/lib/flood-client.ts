/**
 * The DHCP flood bench's client, run inside the client namespace by bench/flood.ts:
 *   node --conditions=source --import tsx bench/lib/flood-client.ts '<FloodPlan JSON>'
 * Sends `datagrams` datagrams to the server's ports 67 and 4011 as fast as the socket takes them —
 * every other one garbage (random bytes, truncated headers, bad option lengths), the rest relayed
 * DISCOVERs from random MACs that a server will answer — then, the moment the flood ends, one new
 * machine does DORA through the relay (retries 1, 2, 4 s) and reports how long its lease took.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { buildRequest, StormRelay } from './storm-dhcp.js';

export interface FloodPlan {
  server: string;
  giaddr: string;
  datagrams: number;
}

export interface FloodResult {
  sent: number;
  floodMs: number;
  /** When the flood's last datagram was sent (ms since the epoch), to line up with the server's counters. */
  endedAt?: number;
  /** ms from the last flood datagram to the new machine's ACK; undefined when it got none. */
  leaseAfterMs?: number;
  failure?: string;
}

function junk(i: number, giaddr: string): Buffer {
  switch (i % 6) {
    case 0:
      return randomBytes(1 + (i % 600));
    case 1:
      return randomBytes(200); // shorter than a BOOTP header
    case 2: {
      const b = buildRequest({ mac: randomBytes(6), arch: 0, xid: i }, giaddr, 1);
      b[241] = 250; // option length past the end
      return b;
    }
    default:
      return buildRequest({ mac: randomBytes(6), arch: 7, xid: i >>> 0 }, giaddr, 1);
  }
}

async function flood(plan: FloodPlan): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, r));
  sock.setSendBufferSize(4 << 20);
  let sent = 0;
  // Keep a bounded number of sends outstanding so the flood runs at the socket's pace.
  await new Promise<void>((resolve) => {
    let outstanding = 0;
    const pump = () => {
      while (outstanding < 256 && sent < plan.datagrams) {
        const i = sent++;
        outstanding++;
        sock.send(junk(i, plan.giaddr), i % 2 ? 67 : 4011, plan.server, () => {
          outstanding--;
          if (sent < plan.datagrams) pump();
          else if (outstanding === 0) resolve();
        });
      }
    };
    pump();
  });
  sock.close();
  return sent;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as FloodPlan;
  const t0 = performance.now();
  const sent = await flood(plan);
  const tEnd = performance.now();
  const result: FloodResult = { sent, floodMs: Math.round(tEnd - t0), endedAt: Date.now() };
  const relay = await StormRelay.open(plan.giaddr, plan.server);
  try {
    await relay.dora({ mac: Buffer.from([0x52, 0x54, 0x00, 0xf1, 0x00, 0x01]), arch: 7, xid: 0x0f100d01 });
    result.leaseAfterMs = Math.round(performance.now() - tEnd);
  } catch (e) {
    result.failure = (e as Error).message;
  } finally {
    relay.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
