/**
 * The TFTP listener (core/tftp/listener.ts): a server on 0.0.0.0 answers from the address each request
 * was sent to when it runs on the native transport (loopback: every 127.x address is local, and the
 * kernel's own choice for a client on 127.0.0.1 is 127.0.0.1), and which hosts make node:dgram's
 * kernel-chosen source ambiguous (the `tftp.source.ambiguous` warning).
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import type { Logger } from 'pino';
import { nativeListen } from '../../../core/native/listen-socket.js';
import { nativeUdp } from '../../../core/native/udp-socket.js';
import { sourceAmbiguity, warnIfAmbiguous, type TftpListener } from '../../../core/tftp/listener.js';
import { startTestServer } from '../../helpers/tftp-test-server.js';

const noNative =
  nativeListen().available && nativeUdp().available ? false : `native addon not built: ${nativeListen().reason ?? ''}`;

async function ask(port: number, to: string, packet: Buffer): Promise<{ msg: Buffer; rinfo: RemoteInfo }[]> {
  const sock = createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const got: { msg: Buffer; rinfo: RemoteInfo }[] = [];
  try {
    const next = () =>
      new Promise<{ msg: Buffer; rinfo: RemoteInfo }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2000);
        sock.once('message', (msg, rinfo) => {
          clearTimeout(timer);
          resolve({ msg, rinfo });
        });
      });
    sock.send(packet, port, to);
    const first = await next();
    got.push(first);
    if (first.msg.readUInt16BE(0) === 6) {
      // Like real clients, answer where the OACK came from (on dgram that is not `to`).
      sock.send(Buffer.from([0, 4, 0, 0]), first.rinfo.port, first.rinfo.address); // ACK 0 → DATA 1
      got.push(await next());
      sock.send(Buffer.from([0, 5, 0, 0, 0]), first.rinfo.port, first.rinfo.address); // end it
    }
  } finally {
    sock.close();
  }
  return got;
}

const rrq = (name: string, opts = ''): Buffer => Buffer.from(`\0\x01${name}\0octet\0${opts}`, 'latin1');

test(
  'native: a server on 0.0.0.0 answers OACK, DATA and errors from the address asked',
  { skip: noNative },
  async (t) => {
    const s = await startTestServer({ 'a.bin': Buffer.alloc(600, 1) }, { address: '0.0.0.0', transport: 'native' });
    t.after(() => s.stop());
    assert.equal(s.server.repliesFromRequestAddress, true);
    for (const to of ['127.0.0.2', '127.0.0.3']) {
      const [oack, data] = await ask(s.port, to, rrq('a.bin', 'blksize\x00512\x00'));
      assert.deepEqual([oack!.msg.readUInt16BE(0), oack!.rinfo.address], [6, to]);
      assert.deepEqual([data!.msg.readUInt16BE(0), data!.rinfo.address], [3, to]);
      assert.notEqual(oack!.rinfo.port, s.port, 'the transfer runs on its own port');
      const [plain] = await ask(s.port, to, rrq('a.bin'));
      assert.deepEqual([plain!.msg.readUInt16BE(0), plain!.rinfo.address], [3, to]);
      for (const bad of [rrq('missing.bin'), Buffer.from('\0\x02up\0octet\0'), Buffer.from([0, 9])]) {
        const [err] = await ask(s.port, to, bad);
        assert.deepEqual([err!.msg.readUInt16BE(0), err!.rinfo.address, err!.rinfo.port], [5, to, s.port]);
      }
    }
  },
);

test(
  'native: "server busy" from the listening port leaves from the address asked too',
  { skip: noNative },
  async (t) => {
    const s = await startTestServer({ 'a.bin': Buffer.alloc(600, 1) }, { address: '0.0.0.0', maxTransfers: 1 });
    t.after(() => s.stop());
    const holder = createSocket('udp4');
    t.after(() => holder.close());
    holder.bind(0, '127.0.0.1');
    await once(holder, 'listening');
    holder.send(rrq('a.bin', 'blksize\x00512\x00'), s.port, '127.0.0.2'); // its OACK is never ACKed: it stays
    await once(holder, 'message');
    const [busy] = await ask(s.port, '127.0.0.3', rrq('a.bin'));
    assert.deepEqual([busy!.msg.readUInt16BE(0), busy!.rinfo.address, busy!.rinfo.port], [5, '127.0.0.3', s.port]);
    assert.match(busy!.msg.toString('latin1', 4), /server busy/);
  },
);

test('dgram: the same server works, answering from the kernel choice (127.0.0.1)', async (t) => {
  const s = await startTestServer({ 'a.bin': Buffer.alloc(600, 1) }, { address: '0.0.0.0', transport: 'dgram' });
  t.after(() => s.stop());
  assert.equal(s.server.repliesFromRequestAddress, false);
  const [oack, data] = await ask(s.port, '127.0.0.2', rrq('a.bin', 'blksize\x00512\x00'));
  assert.deepEqual([oack!.msg.readUInt16BE(0), oack!.rinfo.address], [6, '127.0.0.1']);
  assert.deepEqual([data!.msg.readUInt16BE(0), data!.rinfo.address], [3, '127.0.0.1']);
});

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, scopeid: 0 }) as NetworkInterfaceInfo;

test('sourceAmbiguity: several addresses of the family behind a wildcard; one, or a bound address, is fine', () => {
  const host = {
    lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
    eth0: [nic('10.0.0.1', 'IPv4'), nic('fd00::1', 'IPv6'), nic('fe80::1', 'IPv6')],
  };
  assert.equal(sourceAmbiguity('0.0.0.0', host), undefined);
  assert.equal(sourceAmbiguity('::', host), undefined, 'one global and one link-local address');
  const multi = { ...host, eth1: [nic('10.0.1.1', 'IPv4'), nic('fe80::2', 'IPv6'), nic('fe80::3', 'IPv6')] };
  assert.deepEqual(sourceAmbiguity('0.0.0.0', multi), ['10.0.0.1', '10.0.1.1']);
  assert.deepEqual(sourceAmbiguity('::', multi), ['fd00::1', 'fe80::1%eth0', 'fe80::2%eth1', 'fe80::3%eth1']);
  const slaac = { eth0: [nic('fd00::1', 'IPv6'), nic('fd00::a446:fcff:fee1:77cc', 'IPv6')] };
  assert.deepEqual(sourceAmbiguity('::', slaac), ['fd00::1', 'fd00::a446:fcff:fee1:77cc']);
  assert.equal(sourceAmbiguity('10.0.0.1', multi), undefined, 'a bound address is its own source');
});

test('warnIfAmbiguous: once per listener that cannot choose its source, naming the setting', () => {
  const lines: { event?: string; addresses?: string[] }[] = [];
  const msgs: string[] = [];
  const log = {
    warn: (o: { event?: string }, m: string) => {
      lines.push(o);
      msgs.push(m);
    },
  } as unknown as Logger;
  const host = { eth0: [nic('fd00::1', 'IPv6'), nic('fd00::2', 'IPv6'), nic('10.0.0.1', 'IPv4')] };
  const l = (address: string, knowsDestination: boolean) =>
    ({ address, type: address.includes(':') ? 'udp6' : 'udp4', knowsDestination }) as TftpListener;
  warnIfAmbiguous(l('::', true), log, 'x', host);
  warnIfAmbiguous(l('0.0.0.0', false), log, 'x', host);
  assert.equal(lines.length, 0);
  warnIfAmbiguous(l('::', false), log, 'tftp.transport dgram', host);
  assert.deepEqual(lines, [
    { event: 'tftp.source.ambiguous', address: '::', addresses: ['fd00::1', 'fd00::2'], why: 'tftp.transport dgram' },
  ]);
  assert.match(msgs[0]!, /set tftp\.address6/);
});
