/**
 * Real DHCP clients against pxekit in `full` mode on the real ports 67/68, inside namespaces this test
 * creates: busybox udhcpc (lease, second client, reservation, renew with SIGUSR1, release with -R on
 * SIGTERM) and ISC dhclient (lease, INIT-REBOOT of the remembered lease, release with -r).
 * Needs root and the realnet packages; skips with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import {
  addClientIface,
  dhclientScript,
  fileLines,
  startPxekit,
  tmp,
  udhcpcOnce,
  udhcpcScript,
  until,
} from './helpers.js';

const skip = realnetAvailable(['busybox', 'dhclient']);
const RESERVED_MAC = '52:54:00:d0:00:03';

function config() {
  return {
    dhcp: {
      mode: 'full',
      pools: [
        {
          subnet: '10.77.0.0/24',
          range: ['10.77.0.100', '10.77.0.150'],
          router: '10.77.0.1',
          dns: ['10.77.0.1'],
          leaseTime: 120,
          reservations: [{ mac: RESERVED_MAC, ip: '10.77.0.42', hostname: 'reserved' }],
        },
      ],
    },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'debug' },
  };
}

const bound = (lines: string[], event: string) =>
  lines.map((l) => new RegExp(`^${event} ip=(\\S+)`).exec(l)?.[1]).filter(Boolean) as string[];

test(
  'udhcpc: lease, a second client gets another address, reservation, renew, release',
  { skip, timeout: 180_000 },
  async (t) => {
    await withLan(t, { name: 'dhfull', taps: 0 }, async (lan) => {
      const dir = tmp('dhfull');
      const pxe = await startPxekit(lan, dir, config());
      const ctx = () => `--- pxekit log tail ---\n${fileLines(pxe.logFile).slice(-30).join('\n')}`;

      // Client 1 on eth0 stays running (renew, then release on SIGTERM thanks to -R).
      const out1 = path.join(dir, 'u1.out');
      const u1 = lan.spawnIn(lan.cliNs, 'busybox', [
        'udhcpc',
        '-f',
        '-R',
        '-i',
        'eth0',
        '-t',
        '5',
        '-T',
        '2',
        '-A',
        '2',
        '-s',
        udhcpcScript(dir, out1),
      ]);
      const ip1 = await until(
        () => bound(fileLines(out1), 'bound')[0],
        30_000,
        'udhcpc bound',
        () => `${u1.output()}\n${ctx()}`,
      );
      assert.match(ip1, /^10\.77\.0\.(1[0-4]\d|150)$/);
      assert.match(
        fileLines(out1).find((l) => l.startsWith('bound'))!,
        /serverid=10\.77\.0\.1 /,
      );

      // Client 2 (another MAC on the same LAN) while client 1 holds its lease.
      await addClientIface(lan, 'c2', '52:54:00:d0:00:02');
      const out2 = path.join(dir, 'u2.out');
      const u2 = await udhcpcOnce(lan, dir, out2, { iface: 'c2' });
      assert.equal(u2.code, 0, `${u2.stderr}\n${ctx()}`);
      const ip2 = bound(fileLines(out2), 'bound')[0];
      assert.ok(ip2 && ip2 !== ip1, `second client got ${ip2}, first ${ip1}`);

      // A reserved MAC gets its reserved address.
      await addClientIface(lan, 'c3', RESERVED_MAC);
      const out3 = path.join(dir, 'u3.out');
      const u3 = await udhcpcOnce(lan, dir, out3, { iface: 'c3' });
      assert.equal(u3.code, 0, `${u3.stderr}\n${ctx()}`);
      assert.deepEqual(bound(fileLines(out3), 'bound'), ['10.77.0.42']);

      // Renew (SIGUSR1): a unicast REQUEST from ciaddr, ACKed for the same address.
      process.kill(u1.pid!, 'SIGUSR1');
      // busybox 1.35 runs no script when a renew keeps the same lease: read its own log line instead.
      const renewed = await until(
        () => /sending renew[\s\S]*lease of (\S+) obtained/.exec(u1.output())?.[1],
        20_000,
        'udhcpc renew',
        () => `${u1.output()}\n${ctx()}`,
      );
      assert.equal(renewed, ip1);
      // udhcpc has the ACK: pxekit's line for it (written asynchronously) may still be on its way.
      await until(
        () =>
          pxe
            .events('dhcp.ack')
            .some((l) => l.yiaddr === ip1 && l.to && (l.to as { broadcast: boolean }).broadcast === false),
        10_000,
        'renew ACK unicast to ciaddr',
        ctx,
      );

      // Release on exit (-R).
      await u1.stop(5_000);
      const rel = await until(
        () => pxe.events('dhcp.release').find((l) => l.ip === ip1),
        10_000,
        'RELEASE logged',
        ctx,
      );
      assert.equal(rel.released, true);
      const ips = new Map<string, string>();
      for (const l of pxe.events('dhcp.ack')) {
        const prev = ips.get(String(l.yiaddr));
        assert.ok(prev === undefined || prev === l.mac, `${String(l.yiaddr)} ACKed to ${prev} and ${String(l.mac)}`);
        ips.set(String(l.yiaddr), String(l.mac));
      }
    });
  },
);

test('dhclient: lease, INIT-REBOOT of the remembered lease, release', { skip, timeout: 180_000 }, async (t) => {
  await withLan(t, { name: 'dhdhcl', taps: 0 }, async (lan) => {
    const dir = tmp('dhdhcl');
    const pxe = await startPxekit(lan, dir, config());
    const ctx = () => `--- pxekit log tail ---\n${fileLines(pxe.logFile).slice(-30).join('\n')}`;
    const out = path.join(dir, 'dhclient.out');
    const sf = dhclientScript(dir, out);
    const files = ['-sf', sf, '-lf', path.join(dir, 'dhclient.leases'), '-pf', path.join(dir, 'dhclient.pid')];
    const boundIp = (reason: string) =>
      fileLines(out)
        .map((l) => l.split(' '))
        .find((p) => p[0] === reason && p[1])?.[1];

    const d1 = lan.spawnIn(lan.cliNs, 'dhclient', ['-4', '-d', '-1', ...files, 'eth0']);
    const ip = await until(
      () => boundIp('BOUND'),
      45_000,
      'dhclient BOUND',
      () => `${d1.output()}\n${ctx()}`,
    );
    assert.match(ip, /^10\.77\.0\.1\d\d$/);
    await d1.stop(5_000);

    // Run again: dhclient asks for its remembered address (INIT-REBOOT: option 50, no 54) and gets it.
    const d2 = lan.spawnIn(lan.cliNs, 'dhclient', ['-4', '-d', '-1', ...files, 'eth0']);
    const seen = fileLines(out).length;
    const again = await until(
      () =>
        fileLines(out)
          .slice(seen)
          .map((l) => l.split(' '))
          .find((p) => (p[0] === 'REBOOT' || p[0] === 'BOUND') && p[1])?.[1],
      45_000,
      'dhclient REBOOT',
      () => `${d2.output()}\n${ctx()}`,
    );
    // dhclient has its ACK: pxekit's line for it (written asynchronously) may still be on its way.
    await until(() => pxe.events('dhcp.ack').length >= 2, 10_000, 'the second ACK logged', ctx);
    assert.equal(pxe.events('dhcp.offer').length, 1, 'the second run verified its address without a DISCOVER');
    assert.equal(again, ip);
    await d2.stop(5_000);

    const r = await lan.execIn(lan.cliNs, 'dhclient', ['-4', '-r', ...files, 'eth0'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const rel = await until(() => pxe.events('dhcp.release').find((l) => l.ip === ip), 10_000, 'RELEASE logged', ctx);
    assert.equal(rel.released, true);
  });
});
