/**
 * kill -9 with real traffic: pxekit (the CLI, full mode, lease-file store) in a server namespace;
 * busybox udhcpc on its own interface and a relay load client (relay-client.ts, giaddr 10.78.0.2)
 * in the client namespace. pxekit is SIGKILLed while the load client is mid-run, then restarted on
 * the same file: every ACK a client received is in the file, no address has two owners, udhcpc gets
 * its address back, and the relayed clients are offered theirs again.
 * Needs root and the realnet packages (busybox); skips with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import pino from 'pino';
import { realnetAvailable, withLan, type Lan } from '../../helpers/realnet.js';
import { sleep } from '../../helpers/proc.js';
import type { Tracked } from '../../helpers/proc.js';
import { addClientIface, fileLines, repoRoot, tmp, udhcpcOnce, until } from '../dhcp/helpers.js';
import { FileLeaseStore } from '../../../plugins/lease-file/file-store.js';

const skip = realnetAvailable(['busybox']);
const UDHCPC_MAC = '52:54:00:1f:00:01';
const RELAY_CLIENT = path.join(repoRoot, 'test', 'integration', 'leases', 'relay-client.ts');

function config(leaseFile: string) {
  return {
    dhcp: {
      mode: 'full',
      pools: [
        { subnet: '10.77.0.0/24', range: ['10.77.0.100', '10.77.0.150'], router: '10.77.0.1', leaseTime: 600 },
        { subnet: '10.78.0.0/16', range: ['10.78.0.10', '10.78.255.250'], router: '10.78.0.2', leaseTime: 600 },
      ],
    },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'info' },
    plugins: [['lease-file', { path: leaseFile }]],
  };
}

/** pxekit via the CLI in the server namespace; `exec` keeps the tracked pid pxekit's own (ip netns exec execs too). */
async function startPxekit(
  lan: Lan,
  dir: string,
  leaseFile: string,
  n: number,
): Promise<{ proc: Tracked; log: string }> {
  const cfg = path.join(dir, 'pxekit.json');
  const log = path.join(dir, `pxekit-${n}.log`);
  (await import('node:fs')).writeFileSync(cfg, JSON.stringify(config(leaseFile)));
  const proc = lan.spawnIn(
    lan.srvNs,
    'bash',
    ['-c', `exec "${process.execPath}" bin/pxekit.js start --config "${cfg}" >"${log}" 2>&1`],
    { cwd: repoRoot },
  );
  await until(
    () => fileLines(log).some((l) => l.includes('"dhcp.listening"')),
    30_000,
    'pxekit listening',
    () => fileLines(log).slice(-20).join('\n'),
  );
  return { proc, log };
}

async function udhcpc(lan: Lan, dir: string, n: number): Promise<string> {
  const out = path.join(dir, `udhcpc-${n}.out`);
  const r = await udhcpcOnce(lan, dir, out, { iface: 'c1' });
  const ip = fileLines(out)
    .map((l) => /^bound ip=(\S+)/.exec(l)?.[1])
    .find(Boolean);
  assert.ok(ip, `udhcpc got no lease: ${r.stderr}`);
  return ip;
}

const acked = (file: string) =>
  new Map(
    fileLines(file)
      .map((l) => /^ACK (\S+) (\S+)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );

test(
  'pxekit SIGKILLed under relayed load: every ACKed lease survives, clients get their addresses back',
  { skip, timeout: 240_000 },
  async (t) => {
    await withLan(t, { name: 'lfkill', taps: 0, cliIp: '10.77.0.2/24' }, async (lan) => {
      const must = async (ns: string, args: string[]) => {
        const r = await lan.execIn(ns, 'ip', args, { timeoutMs: 10_000 });
        assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
      };
      await must(lan.cliNs, ['addr', 'add', '10.78.0.2/16', 'dev', 'eth0']);
      await must(lan.srvNs, ['route', 'add', '10.78.0.0/16', 'via', '10.77.0.2']);
      await addClientIface(lan, 'c1', UDHCPC_MAC);
      const dir = tmp('lfkill');
      const leaseFile = path.join(dir, 'state', 'leases.log');

      const first = await startPxekit(lan, dir, leaseFile, 1);
      const ipBefore = await udhcpc(lan, dir, 1);

      // Load: 16 relayed clients in flight; SIGKILL pxekit once 300 of them have their ACK.
      const loadOut = path.join(dir, 'load.out');
      const load = lan.spawnIn(
        lan.cliNs,
        'bash',
        [
          '-c',
          `exec "${process.execPath}" --import tsx "${RELAY_CLIENT}" dora 10.77.0.1 10.78.0.2 0 20000 16 >"${loadOut}" 2>&1`,
        ],
        { cwd: repoRoot },
      );
      await until(
        () => acked(loadOut).size >= 300,
        60_000,
        '300 relayed ACKs',
        () => `${fileLines(loadOut).slice(-5).join('\n')}\n${fileLines(first.log).slice(-10).join('\n')}`,
      );
      process.kill(first.proc.pid!, 'SIGKILL');
      assert.equal(await first.proc.exitPromise, 'SIGKILL');
      await sleep(500); // replies already on the wire reach the client
      await load.stop(3_000);
      const acks = acked(loadOut);
      assert.ok(!fileLines(loadOut).includes('DONE'), 'the load was cut mid-run');
      assert.equal(acks.get(UDHCPC_MAC), undefined);

      // The file as the crash left it: every ACK bound to its client, no address twice.
      const store = new FileLeaseStore({
        file: leaseFile,
        fsync: 'batch',
        batchMs: 2,
        compactEveryBytes: 16 << 20,
        log: pino({ level: 'silent' }),
      });
      await store.load();
      const owners = new Map<string, string>();
      for (const l of await store.list()) {
        assert.equal(owners.has(l.ip), false, `${l.ip} held twice`);
        owners.set(l.ip, l.mac);
      }
      for (const [mac, ip] of [...acks, [UDHCPC_MAC, ipBefore] as const]) {
        const l = await store.get(mac);
        assert.deepEqual([l?.ip, l?.state], [ip, 'bound'], `ACKed ${mac} ${ip} after kill -9`);
      }
      await store.close();

      // Restart on the same file (the stale lock of the killed process is taken over).
      const second = await startPxekit(lan, dir, leaseFile, 2);
      assert.ok(
        fileLines(second.log).some((l) => l.includes('"lease-file.loaded"')),
        'loaded the file',
      );
      assert.equal(await udhcpc(lan, dir, 2), ipBefore, 'udhcpc got the same address back');
      const sample = [...acks].filter((_, i) => i % 10 === 0);
      const r = await lan.execIn(
        lan.cliNs,
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          RELAY_CLIENT,
          'discover',
          '10.77.0.1',
          '10.78.0.2',
          ...sample.map(([m]) => m),
        ],
        { timeoutMs: 60_000 },
      );
      for (const [mac, ip] of sample)
        assert.match(
          r.stdout,
          new RegExp(`^OFFER ${mac} ${ip.replace(/\./g, '\\.')}$`, 'm'),
          `${mac} offered its ACKed ${ip}\n${r.stdout.slice(-500)}${r.stderr}`,
        );
      await second.proc.stop(5_000);
    });
  },
);
