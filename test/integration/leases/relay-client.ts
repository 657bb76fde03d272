/**
 * A DHCP relay-style load client for the realnet durability test, run inside the client namespace:
 * one socket on <giaddr>:67, DISCOVER → OFFER → REQUEST → ACK per MAC, `concurrency` clients in
 * flight, every exchange bounded (timeout, one retry). Prints one line per client as soon as it
 * knows: `ACK <mac> <ip>`, `NAK <mac>`, `TIMEOUT <mac>`; then `DONE`.
 *   node --import tsx relay-client.ts dora <server> <giaddr> <firstIndex> <count> <concurrency>
 *   node --import tsx relay-client.ts discover <server> <giaddr> <mac>...      (prints `OFFER <mac> <ip>`)
 */
import { createSocket } from 'node:dgram';
import { writeSync } from 'node:fs';
import { decode, encode } from '../../../core/dhcp/codec.js';
import { DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPREQUEST, type DhcpPacket } from '../../../core/dhcp/packet.js';
import { clientMessage, macOf, replyServer, replyType } from './dhcp-wire.js';

const [mode, server, giaddr, ...rest] = process.argv.slice(2);
const TIMEOUT_MS = 1500;
const sock = createSocket({ type: 'udp4', reuseAddr: true });
const waiting = new Map<number, (p: DhcpPacket) => void>();
let xid = (process.pid << 12) >>> 0;

sock.on('message', (buf) => {
  try {
    const p = decode(buf);
    waiting.get(p.xid)?.(p);
  } catch {
    /* not a DHCP reply: ignore */
  }
});

/** Sends and waits for the reply with the same xid; one retry; undefined on timeout. */
async function ask(p: DhcpPacket): Promise<DhcpPacket | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const got = await new Promise<DhcpPacket | undefined>((resolve) => {
      const t = setTimeout(() => {
        waiting.delete(p.xid);
        resolve(undefined);
      }, TIMEOUT_MS);
      waiting.set(p.xid, (r) => {
        clearTimeout(t);
        waiting.delete(p.xid);
        resolve(r);
      });
      sock.send(encode(p), 67, server);
    });
    if (got) return got;
  }
  return undefined;
}

async function dora(mac: string): Promise<string> {
  const id = (xid = (xid + 1) >>> 0);
  const offer = await ask(clientMessage(mac, DHCPDISCOVER, id, { giaddr }));
  if (!offer) return `TIMEOUT ${mac}`;
  if (replyType(offer) !== DHCPOFFER) return `NAK ${mac}`;
  const ack = await ask(
    clientMessage(mac, DHCPREQUEST, id, { giaddr, requested: offer.yiaddr, server: replyServer(offer) }),
  );
  if (!ack) return `TIMEOUT ${mac}`;
  return replyType(ack) === DHCPACK
    ? `ACK ${mac} ${ack.yiaddr}`
    : replyType(ack) === DHCPNAK
      ? `NAK ${mac}`
      : `TIMEOUT ${mac}`;
}

async function main(): Promise<void> {
  await new Promise<void>((r) => sock.bind(67, giaddr, r));
  if (mode === 'dora') {
    const [first, count, conc] = rest.map(Number) as [number, number, number];
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < count) writeSync(1, `${await dora(macOf(0x77, first + next++))}\n`);
      }),
    );
  } else if (mode === 'discover') {
    for (const mac of rest) {
      const offer = await ask(clientMessage(mac, DHCPDISCOVER, (xid = (xid + 1) >>> 0), { giaddr }));
      writeSync(1, offer && replyType(offer) === DHCPOFFER ? `OFFER ${mac} ${offer.yiaddr}\n` : `TIMEOUT ${mac}\n`);
    }
  } else {
    throw new Error('usage: dora|discover');
  }
  writeSync(1, 'DONE\n');
  sock.close();
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
