/**
 * kill -9 durability of the lease-file store, without root: a child process commits leases through
 * the full DHCP pipeline and reports each ACK the moment it has it; it is SIGKILLed mid-run. Then:
 * every reported ACK is in the file, bound to its client; no address has two clients; and a server
 * restarted on the file OFFERs each of those clients the same address again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createServer } from '../../../core/create-server.js';
import { DHCPDISCOVER, DHCPOFFER } from '../../../core/dhcp/packet.js';
import { FileLeaseStore } from '../../../plugins/lease-file/file-store.js';
import leaseFile from '../../../plugins/lease-file/index.js';
import { clientMessage, replyType } from './dhcp-wire.js';

const CHILD = fileURLToPath(new URL('./commit-child.ts', import.meta.url));
const SERVER = '10.66.0.1';

interface ChildRun {
  acks: Map<string, string>;
  killedAfter: number;
  done: boolean;
  output: string;
}

/** Runs the child until it has reported `killAt` ACKs, then SIGKILLs it (bounded by 60 s). */
function runAndKill(file: string, clients: number, killAt: number, fsync: string, compact = ''): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', CHILD, file, String(clients), '32', fsync, compact],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const acks = new Map<string, string>();
    let buf = '';
    let output = '';
    let done = false;
    let killedAfter = -1;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not reach ${killAt} ACKs in 60 s: ${output.slice(-2000)}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^ACK (\S+) (\S+)$/.exec(line);
        // Lines read after the kill are still ACKs the child had: count them all.
        if (m) acks.set(m[1]!, m[2]!);
        if (line === 'DONE') done = true;
        if (killedAfter < 0 && acks.size >= killAt) {
          killedAfter = acks.size;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child exited ${code}: ${output.slice(-2000)}`));
      else resolve({ acks, killedAfter, done, output });
    });
  });
}

async function checkAfterCrash(file: string, run: ChildRun): Promise<void> {
  const store = new FileLeaseStore({
    file,
    fsync: 'batch',
    batchMs: 2,
    compactEveryBytes: 16 << 20,
    log: pino({ level: 'silent' }),
  });
  await store.load();
  const leases = await store.list();
  const owners = new Map<string, string>();
  for (const l of leases) {
    assert.equal(owners.has(l.ip), false, `${l.ip} held twice`);
    owners.set(l.ip, l.mac);
  }
  const macs = new Set(leases.map((l) => l.mac));
  assert.equal(macs.size, leases.filter((l) => l.mac).length, 'one record per client');
  for (const [mac, ip] of run.acks) {
    const l = await store.get(mac);
    assert.ok(l, `ACKed ${mac} ${ip} is missing after kill -9`);
    assert.deepEqual([l.ip, l.state], [ip, 'bound'], `ACKed ${mac}`);
  }
  await store.close();
}

// The third run compacts every 4 KiB (~25 records): the kill lands among rotations and snapshots written beside the appends.
for (const [fsync, compact] of [
  ['batch', ''],
  ['always', ''],
  ['batch', '4096'],
]) {
  test(
    `kill -9 mid-run (fsync ${fsync}${compact && ', compacting every 4 KiB'}): every ACKed lease is on disk, and the client gets its address back`,
    { timeout: 120_000 },
    async (t) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'pxk-lease-kill-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'leases.log');
      const run = await runAndKill(file, 20_000, 400, fsync!, compact);
      assert.equal(run.done, false, 'killed before it finished');
      assert.ok(run.acks.size >= 400);
      if (compact) assert.ok(existsSync(`${file}.snapshot`) || existsSync(`${file}.compacting`), 'compactions ran');
      await checkAfterCrash(file, run);

      // Restart a server on the file: each ACKed client is offered its address again.
      const server = createServer({
        log: { level: 'silent' },
        tftp: { enabled: false },
        http: { enabled: false },
        dhcp: {
          mode: 'full',
          port: 0,
          serverAddress: SERVER,
          pools: [
            { subnet: '10.66.0.0/16', range: ['10.66.0.10', '10.66.255.250'], leaseTime: 3600, reservations: [] },
          ],
        },
        plugins: [leaseFile({ path: file })],
      });
      t.after(() => server.close());
      let xid = 1;
      const sample = [...run.acks].filter((_, i) => i % 4 === 0);
      for (const [mac, ip] of sample) {
        const [offer] = await server.inject.dhcp(clientMessage(mac, DHCPDISCOVER, xid++), {
          local: { address: SERVER, interface: 'eth0' },
        });
        assert.equal(offer && replyType(offer.packet), DHCPOFFER);
        assert.equal(offer!.packet.yiaddr, ip, `${mac} offered ${offer!.packet.yiaddr}, had ${ip}`);
      }
      // And a new client gets an address nobody was ACKed.
      const [fresh] = await server.inject.dhcp(clientMessage('02:99:00:00:00:01', DHCPDISCOVER, xid), {
        local: { address: SERVER, interface: 'eth0' },
      });
      assert.ok(fresh && ![...run.acks.values()].includes(fresh.packet.yiaddr));
    },
  );
}
