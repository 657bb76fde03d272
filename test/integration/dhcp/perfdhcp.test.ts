/**
 * perfdhcp (Kea) as a relay against pxekit in `full` mode: a few thousand DORA exchanges from
 * thousands of MACs, every reply sent to the relay, and no address ACKed to two clients (checked on
 * pxekit's ACK log lines: the run is shorter than the lease time, so every ACK is a live lease).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { fileLines, startPxekit, tmp, until } from './helpers.js';

const skip = realnetAvailable(['perfdhcp']);

test(
  'perfdhcp through a relay: thousands of exchanges, no address handed out twice',
  { skip, timeout: 180_000 },
  async (t) => {
    await withLan(t, { name: 'dhperf', taps: 0, cliIp: '10.77.0.2/24' }, async (lan) => {
      const dir = tmp('dhperf');
      const run = async (ns: string, cmd: string, args: string[]) => {
        const r = await lan.execIn(ns, cmd, args, { timeoutMs: 10_000 });
        assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
      };
      // The relay's client-side address (giaddr), routed through the client stack.
      await run(lan.cliNs, '/usr/sbin/ip', ['addr', 'add', '10.78.0.2/16', 'dev', 'eth0']);
      await run(lan.srvNs, '/usr/sbin/ip', ['route', 'add', '10.78.0.0/16', 'via', '10.77.0.2']);
      const pxe = await startPxekit(lan, dir, {
        dhcp: {
          mode: 'full',
          pools: [
            { subnet: '10.77.0.0/24', range: ['10.77.0.100', '10.77.0.200'], leaseTime: 3600 },
            { subnet: '10.78.0.0/16', range: ['10.78.1.0', '10.78.40.255'], router: '10.78.0.2', leaseTime: 3600 },
          ],
        },
        tftp: { enabled: false },
        http: { enabled: false },
        log: { level: 'info' },
      });

      // PXEKIT_PERFDHCP_RATE raises the rate for a quick look at throughput (the benchmark proper is bench/dhcp).
      const rate = process.env.PXEKIT_PERFDHCP_RATE ?? '300';
      const perf = await lan.execIn(
        lan.cliNs,
        'perfdhcp',
        ['-4', '-l', '10.78.0.2', '-r', rate, '-R', '4000', '-p', '10', '10.77.0.1'],
        { timeoutMs: 60_000 },
      );
      const stats = perf.stdout;
      const received = [...stats.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]));
      t.diagnostic(`perfdhcp: ${stats.replace(/\n+/g, ' | ').slice(0, 600)}`);
      // Exchange 1 is DISCOVER-OFFER, exchange 2 REQUEST-ACK.
      assert.ok(received.length >= 2, `no statistics from perfdhcp (code ${perf.code}):\n${stats}\n${perf.stderr}`);
      const acks = received[1]!;
      assert.ok(acks >= 1000, `only ${acks} ACKs received by perfdhcp\n${stats}`);

      // perfdhcp has its last ACKs: pxekit's lines for them (written asynchronously) may still be on their way.
      await until(
        () => pxe.events('dhcp.ack').length >= acks,
        10_000,
        `pxekit to log the ${acks} ACKs perfdhcp received`,
        () => `pxekit logged ${pxe.events('dhcp.ack').length} ACKs`,
      );
      const byIp = new Map<string, string>();
      let ackLines = 0;
      for (const l of pxe.events('dhcp.ack')) {
        ackLines++;
        const ip = String(l.yiaddr);
        const prev = byIp.get(ip);
        assert.ok(prev === undefined || prev === l.mac, `${ip} ACKed to ${prev} and ${String(l.mac)}`);
        byIp.set(ip, String(l.mac));
        assert.match(ip, /^10\.78\.\d+\.\d+$/);
        assert.deepEqual(l.to, { address: '10.78.0.2', port: 67, broadcast: false });
      }
      assert.ok(ackLines >= acks, `pxekit logged ${ackLines} ACKs, perfdhcp received ${acks}`);
      assert.equal(fileLines(pxe.logFile).filter((l) => /"level":50/.test(l)).length, 0, 'no errors logged');
    });
  },
);
