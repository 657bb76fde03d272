/**
 * Child process of durability.test.ts: a pxekit server in full mode with the lease-file store,
 * driven through `server.inject.dhcp` (the same pipeline as the sockets). Each client does
 * DISCOVER → REQUEST; the moment an ACK comes back, `ACK <mac> <ip>` is written synchronously to
 * stdout. The parent SIGKILLs this process mid-run and checks every reported ACK is on disk.
 *   node --import tsx commit-child.ts <leaseFile> <clients> <concurrency> <fsync> [compactEveryBytes]
 */
import { writeSync } from 'node:fs';
import { createServer } from '../../../core/create-server.js';
import { DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST } from '../../../core/dhcp/packet.js';
import leaseFile from '../../../plugins/lease-file/index.js';
import { clientMessage, macOf, replyType } from './dhcp-wire.js';

const [file, clientsArg, concArg, fsync, compactArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const concurrency = Number(concArg);
const SERVER = '10.66.0.1';
const local = { local: { address: SERVER, interface: 'eth0' } };

const server = createServer({
  log: { level: 'silent' },
  tftp: { enabled: false },
  http: { enabled: false },
  dhcp: {
    mode: 'full',
    port: 0,
    serverAddress: SERVER,
    pools: [{ subnet: '10.66.0.0/16', range: ['10.66.0.10', '10.66.255.250'], leaseTime: 3600, reservations: [] }],
  },
  plugins: [
    leaseFile({
      path: file!,
      fsync: fsync === 'always' ? 'always' : 'batch',
      ...(compactArg ? { compactEveryBytes: Number(compactArg) } : {}),
    }),
  ],
});

let next = 0;
async function worker(): Promise<void> {
  while (next < clients) {
    const i = next++;
    const mac = macOf(0x66, i);
    const [offer] = await server.inject.dhcp(clientMessage(mac, DHCPDISCOVER, i + 1), local);
    if (!offer || replyType(offer.packet) !== DHCPOFFER) {
      writeSync(1, `NOOFFER ${mac}\n`);
      continue;
    }
    const [ack] = await server.inject.dhcp(
      clientMessage(mac, DHCPREQUEST, i + 1, { requested: offer.packet.yiaddr, server: SERVER }),
      local,
    );
    if (ack && replyType(ack.packet) === DHCPACK) writeSync(1, `ACK ${mac} ${ack.packet.yiaddr}\n`);
    else writeSync(1, `NOACK ${mac}\n`);
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
writeSync(1, 'DONE\n');
await server.close();
