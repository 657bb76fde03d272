/**
 * Real UDP sockets on loopback, ephemeral ports: the boot-server port answers to the source
 * address:port, the DHCP port answers a client with ciaddr on server port + 1, and a second server on
 * the same port is refused with PXE_ERR_LISTEN_IN_USE.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { decode, encode } from '../../../core/dhcp/codec.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { DHCPINFORM, DHCPREQUEST } from '../../../core/dhcp/packet.js';
import { PxeError } from '../../../core/errors.js';
import { makeServer, request } from './helpers.js';

async function clientSocket(port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  return s;
}

/** The next datagram on `s`, or a rejection after `ms` (bounded wait). */
async function receive(s: Socket, ms = 3000): Promise<Buffer> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    const [msg] = (await once(s, 'message', { signal: ac.signal })) as [Buffer];
    return msg;
  } finally {
    clearTimeout(timer);
  }
}

test('proxy mode on loopback: a 4011 REQUEST is answered to its source address and port', async (t) => {
  const { server } = makeServer({ interfaces: ['127.0.0.1'], dhcp: { mode: 'proxy', port: 0, pxePort: 0 } });
  const bound = await server.start();
  t.after(() => server.close());
  const pxe = bound.find((b) => b.protocol === 'pxe');
  assert.ok(bound.find((b) => b.protocol === 'dhcp') && pxe);
  const client = await clientSocket();
  t.after(() => client.close());
  const req = request(
    '52:54:00:00:06:01',
    DHCPREQUEST,
    { ciaddr: '127.0.0.1' },
    { 60: 'PXEClient:Arch:00007:UNDI:003000', 93: [7] },
  );
  client.send(encode(req), pxe.port, '127.0.0.1');
  const reply = decode(await receive(client));
  assert.equal(reply.xid, req.xid);
  assert.equal(getOption(reply, 53), 5);
  assert.equal(getOption(reply, 54), '127.0.0.1', 'server id = the address the request came in on');
  assert.equal(reply.file, 'ipxe.efi');
});

test('full mode on loopback: INFORM from ciaddr is answered on server port + 1', async (t) => {
  const { server } = makeServer({
    interfaces: ['127.0.0.1'],
    dhcp: {
      mode: 'full',
      port: 0,
      pools: [{ subnet: '127.0.0.0/8', range: ['127.0.1.1', '127.0.1.9'], leaseTime: 600, reservations: [] }],
    },
  });
  const [dhcp] = await server.start();
  t.after(() => server.close());
  let client: Socket;
  try {
    client = await clientSocket(dhcp!.port + 1);
  } catch (err) {
    t.skip(`port ${dhcp!.port + 1} is taken: ${(err as Error).message}`);
    return;
  }
  t.after(() => client.close());
  const req = request('52:54:00:00:06:02', DHCPINFORM, { ciaddr: '127.0.0.1' });
  client.send(encode(req), dhcp!.port, '127.0.0.1');
  const reply = decode(await receive(client));
  assert.equal(reply.xid, req.xid);
  assert.equal(getOption(reply, 1), '255.0.0.0');
  assert.equal(reply.yiaddr, '0.0.0.0');
});

test('a second server on the same DHCP port fails with PXE_ERR_LISTEN_IN_USE', async (t) => {
  const a = makeServer({ interfaces: ['127.0.0.1'], dhcp: { mode: 'full', port: 0, pools: [] } }).server;
  const [bound] = await a.start();
  t.after(() => a.close());
  const b = makeServer({ interfaces: ['127.0.0.1'], dhcp: { mode: 'full', port: bound!.port, pools: [] } }).server;
  await assert.rejects(b.start(), (e: unknown) => e instanceof PxeError && e.code === 'PXE_ERR_LISTEN_IN_USE');
});
