/**
 * `pxekit start` on SIGHUP with DHCPv6 on (full mode, lease-file store), on ::1 with real sockets: DHCPv6
 * clients keep asking across the reload and every message is answered (the socket is handed over, never
 * closed), an exchange begun before the reload (Advertise) completes after it (Request → Reply, same address,
 * same server DUID), a binding made before it renews after it, the new config takes effect (DNS option, a new
 * reservation), no address is given twice, every binding is in the lease file afterwards (the store is handed
 * over), and a change to what the socket is bound to (dhcp6.serverAddress) is refused with the fix.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decode, encode, findOption, type Dhcp6Option, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import { iaNa } from '../../helpers/dhcp6-messages.js';
import { v6Leases } from '../dhcp6/helpers6.js';
import { startCli } from './cli-child.js';

const SERVER_DUID = '00:03:00:01:02:00:00:00:06:01';

function config(o: { dns: string; reservation?: boolean; serverAddress?: string }): string {
  return JSON.stringify({
    dhcp: { mode: 'off' },
    dhcp6: {
      mode: 'full',
      port: 0,
      serverAddress: o.serverAddress ?? '::1',
      serverDuid: SERVER_DUID,
      rapidCommit: false,
      dns: [o.dns],
      pools: [
        {
          prefix: 'fd77::/64',
          range: ['fd77::100', 'fd77::fff'],
          reservations: o.reservation ? [{ duid: '00:03:00:01:02:00:00:00:99:99', address: 'fd77::99' }] : [],
        },
      ],
    },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'info', pretty: false },
    plugins: [['lease-file', { path: './leases.log' }]],
  });
}

const duid = (n: number) => Buffer.from(`0003000102${n.toString(16).padStart(10, '0')}`, 'hex');
const SID: Dhcp6Option = { kind: 'server-id', duid: Buffer.from(SERVER_DUID.replace(/:/g, ''), 'hex') };

function message(type: number, n: number, xid: number, extra: Dhcp6Option[] = []): Dhcp6Packet {
  return {
    kind: 'message',
    msgType: type,
    transactionId: xid,
    options: [
      { kind: 'client-id', duid: duid(n) },
      ...extra,
      { kind: 'oro', codes: [23] },
      { kind: 'elapsed-time', centiseconds: 0 },
    ],
  };
}
const ia = (address?: string): Dhcp6Option => iaNa(1, [address]);
const addressOf = (p: Dhcp6Packet) =>
  p.kind === 'message' ? findOption(findOption(p.options, 'ia-na')?.options ?? [], 'iaaddr')?.address : undefined;
const dnsOf = (p: Dhcp6Packet) => (p.kind === 'message' ? findOption(p.options, 'dns-servers')?.addresses : undefined);

/** One client socket on ::1: send a message, wait (bounded, no retransmission) for the answer with its xid. */
class Client6 {
  readonly #socket = dgram.createSocket({ type: 'udp6' });
  readonly #waiting = new Map<number, (p: Dhcp6Packet) => void>();
  #xid = 0x600000;

  async open(): Promise<void> {
    this.#socket.bind(0, '::1');
    await once(this.#socket, 'listening');
    this.#socket.on('message', (buf) => {
      const p = decode(buf);
      if (p.kind === 'message') this.#waiting.get(p.transactionId)?.(p);
    });
  }

  nextXid(): number {
    return ++this.#xid;
  }

  ask(port: number, p: Dhcp6Packet, timeoutMs = 5_000): Promise<Dhcp6Packet> {
    const xid = p.kind === 'message' ? p.transactionId : 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(xid);
        reject(new Error(`no answer to xid ${xid.toString(16)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(xid, (reply) => {
        clearTimeout(timer);
        this.#waiting.delete(xid);
        resolve(reply);
      });
      this.#socket.send(encode(p), port, '::1');
    });
  }

  /** Solicit → Advertise → Request → Reply; the bound address. */
  async bind(port: number, n: number): Promise<string> {
    const x1 = this.nextXid();
    const adv = await this.ask(port, message(1, n, x1, [ia()]));
    const offered = addressOf(adv);
    assert.ok(offered, `client ${n}: no address offered`);
    const rep = await this.ask(port, message(3, n, this.nextXid(), [SID, ia(offered)]));
    assert.equal(rep.kind === 'message' && rep.msgType, 7);
    return addressOf(rep)!;
  }

  close(): void {
    this.#socket.close();
  }
}

test(
  'SIGHUP with DHCPv6 on: no message lost, exchanges and bindings carry over, new config applies',
  { timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pxekit-reload6-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = join(dir, 'pxekit.config.json');
    writeFileSync(cfg, config({ dns: 'fd77::53' }));
    const { child, output, events, waitEvent } = startCli(t, dir, cfg);
    await waitEvent('server.listening', 1);
    const listening = events('server.listening')[0]!.listening as { protocol: string; address: string; port: number }[];
    const port = listening.find((l) => l.protocol === 'dhcp' && l.address === '::')!.port;
    const client = new Client6();
    await client.open();
    t.after(() => client.close());

    // Before: a binding, and an exchange left half-way (Advertise, no Request yet).
    const first = await client.bind(port, 1);
    const xid2 = client.nextXid();
    const adv2 = await client.ask(port, message(1, 2, xid2, [ia()]));
    const held = addressOf(adv2)!;
    assert.deepEqual(dnsOf(adv2), ['fd77::53']);

    // Clients keep binding while the config is reloaded (a new DNS server, a new reservation).
    writeFileSync(cfg, config({ dns: 'fd77::54', reservation: true }));
    const bound = new Map<number, string>([[1, first]]);
    // 8 clients at a time, so exchanges are in flight on the old config while the new one takes over.
    let n = 100;
    let reloadedAt: number | undefined;
    const started = Date.now();
    const worker = async () => {
      while (n < 4_100 && Date.now() - started < 60_000) {
        if (reloadedAt !== undefined && n >= reloadedAt + 200) return;
        const mine = n++;
        if (mine === 160) child.kill('SIGHUP');
        bound.set(mine, await client.bind(port, mine));
        if (reloadedAt === undefined && events('config.reloaded').length > 0) reloadedAt = n;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.ok(reloadedAt !== undefined, `the reload happened while clients were binding\n${output()}`);
    t.diagnostic(`${bound.size} clients bound across the reload (reloaded after client ${reloadedAt}), none lost`);

    // The exchange begun before the reload completes after it: same address, same server identity.
    const rep2 = await client.ask(port, message(3, 2, client.nextXid(), [SID, ia(held)]));
    assert.equal(addressOf(rep2), held, 'the Request after the reload gets the address advertised before it');
    bound.set(2, held);
    // The binding from before renews; the new config's DNS server is in the answer.
    const renew = await client.ask(port, message(5, 1, client.nextXid(), [SID, ia(first)]));
    assert.equal(addressOf(renew), first, 'renewed: same address');
    assert.deepEqual(dnsOf(renew), ['fd77::54'], 'the new config applies');
    // The new reservation applies.
    assert.equal(await client.bind(port, 0x99_99), 'fd77::99');

    const addresses = [...bound.values()];
    assert.equal(new Set(addresses).size, addresses.length, 'no address given twice');
    await waitEvent('config.retired', 1);

    // What the socket is bound to cannot change on a reload: refused, the running config goes on.
    writeFileSync(cfg, config({ dns: 'fd77::54', reservation: true, serverAddress: 'fd77::1' }));
    child.kill('SIGHUP');
    await waitEvent('config.reload.failed', 1);
    const refused = events('config.reload.failed')[0]!;
    assert.equal(refused.code, 'PXE_ERR_RELOAD_REFUSED');
    assert.deepEqual(
      (refused.problems as { path: string }[]).map((p) => p.path),
      ['dhcp6.serverAddress'],
    );
    assert.equal(await client.bind(port, 5_000).then(Boolean), true, 'still answering');

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output());
    // Every binding is in the lease file (the store was handed over, then closed once at exit).
    const stored = new Map(v6Leases(join(dir, 'leases.log')).map((l) => [l.ip, l.state]));
    for (const [c, a] of bound) assert.equal(stored.get(a), 'bound', `client ${c}'s ${a} bound in the lease file`);
  },
);
