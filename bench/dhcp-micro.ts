/**
 * DHCP CPU micro-benchmark, no sockets: DORA through `server.inject.dhcp` for many MACs, relayed
 * (giaddr 10.78.0.1) like perfdhcp in `npm run bench:dhcp`, same pool and log level (warn).
 * Prints µs per DORA (process CPU, and wall time) for new clients and for known clients (second
 * DORA of the same MACs), with the memory store and with the lease-file store (batch fsync).
 * Packets are built before the clock starts; the REQUEST's option 50 is patched into a template
 * and the offered address read from the reply's bytes, so client work stays out of the numbers.
 * Usage: node --import tsx bench/dhcp-micro.ts   (MICRO_CLIENTS=n, MICRO_CONCURRENCY=n,
 *   MICRO_STORES=memory,file; add --cpu-prof to profile)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode } from '../core/dhcp/codec.js';
import { setOption } from '../core/dhcp/option-values.js';
import { BOOTREQUEST, DHCPDISCOVER, DHCPREQUEST, chaddrFromMac, createPacket } from '../core/dhcp/packet.js';
import { createServer } from '../core/create-server.js';
import type { PxeServer } from '../core/server.js';
import leaseFile from '../plugins/lease-file/index.js';

const CLIENTS = Number(process.env.MICRO_CLIENTS ?? 20_000);
const CONCURRENCY = Number(process.env.MICRO_CONCURRENCY ?? 32);
const STORES = (process.env.MICRO_STORES ?? 'memory,file').split(',');
const RELAY = { address: '10.78.0.1', port: 67 };
const SERVER = '10.77.0.1';
const PLACEHOLDER = [192, 0, 2, 123];

interface Client {
  discover: Buffer;
  request: Buffer;
  ipAt: number;
}

function macOf(i: number): string {
  return [0x02, 0x00, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

function packet(mac: string, xid: number, type: number, opts: Record<number, unknown>): Buffer {
  const p = createPacket({ op: BOOTREQUEST, xid, chaddr: chaddrFromMac(mac)!, giaddr: RELAY.address, hops: 1 });
  setOption(p, 53, type);
  for (const [code, value] of Object.entries(opts)) setOption(p, Number(code), value as never);
  return encode(p);
}

function makeClient(i: number): Client {
  const mac = macOf(i);
  const discover = packet(mac, i + 1, DHCPDISCOVER, { 55: [1, 3, 6, 15, 28, 51, 54] });
  const request = packet(mac, i + 1, DHCPREQUEST, {
    54: SERVER,
    50: PLACEHOLDER.join('.'),
    55: [1, 3, 6, 15, 28, 51, 54],
  });
  const ipAt = request.indexOf(Buffer.from([50, 4, ...PLACEHOLDER]), 240) + 2;
  if (ipAt < 242) throw new Error('option 50 not found in the REQUEST template');
  return { discover, request, ipAt };
}

async function dora(server: PxeServer, c: Client): Promise<void> {
  const [offer] = await server.inject.dhcp(c.discover, { source: RELAY });
  if (!offer) throw new Error('no OFFER');
  offer.buffer.copy(c.request, c.ipAt, 16, 20); // yiaddr → option 50
  const [ack] = await server.inject.dhcp(c.request, { source: RELAY });
  if (ack?.buffer[242] !== 5) throw new Error('no ACK'); // option 53 first in our replies
}

async function round(server: PxeServer, clients: Client[]): Promise<{ cpuUs: number; wallUs: number }> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (next < clients.length) await dora(server, clients[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / clients.length, wallUs: wallNs / 1000 / clients.length };
}

async function runStore(store: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pxekit-dhcp-micro-'));
  try {
    const server = createServer({
      log: { level: 'warn' },
      dhcp: {
        mode: 'full',
        serverAddress: SERVER,
        pools: [
          {
            subnet: '10.78.0.0/16',
            range: ['10.78.0.10', '10.78.255.250'],
            router: RELAY.address,
            dns: [SERVER],
            leaseTime: 3600,
            reservations: [],
          },
        ],
      },
      tftp: { enabled: false },
      http: { enabled: false },
      plugins: store === 'file' ? [leaseFile({ path: path.join(dir, 'leases.log') })] : [],
    });
    await server.start();
    try {
      await round(
        server,
        Array.from({ length: 500 }, (_, i) => makeClient(0x100000 + i)),
      ); // warm-up (JIT)
      const clients = Array.from({ length: CLIENTS }, (_, i) => makeClient(i));
      const fresh = await round(server, clients);
      const known = await round(server, clients);
      for (const [kind, r] of [
        ['new', fresh],
        ['known', known],
      ] as const) {
        console.log(
          `${store.padEnd(6)} ${kind.padEnd(5)} clients: ${r.cpuUs.toFixed(1).padStart(6)} µs ` +
            `CPU/DORA, ${r.wallUs.toFixed(1).padStart(6)} µs wall/DORA (${CLIENTS} clients, ` +
            `concurrency ${CONCURRENCY})`,
        );
      }
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const store of STORES) await runStore(store);
