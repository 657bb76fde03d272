/**
 * pxekit in `proxy` mode next to dnsmasq as the site's ordinary DHCP server (addresses only). A PXE
 * client (udhcpc sending `PXEClient:Arch:00000:UNDI:002001`) takes its address from dnsmasq; pxekit's
 * proxy offer with the boot file is recorded by a UDP listener in the client namespace, and the boot
 * server on 4011 answers the client at its new address. A plain client gets no proxy offer at all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decode } from '../../../core/dhcp/codec.js';
import { getOption } from '../../../core/dhcp/option-values.js';
import { parsePxeVendorOptions } from '../../../core/dhcp/pxe-vendor.js';
import { encode } from '../../../core/dhcp/codec.js';
import { chaddrFromMac, createPacket, BOOTREQUEST } from '../../../core/dhcp/packet.js';
import { setOption } from '../../../core/dhcp/option-values.js';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { dnsmasqDhcpArgs } from '../../helpers/dnsmasq.js';
import { sleep } from '../../helpers/proc.js';
import { fileLines, PXE_VENDOR, startPxekit, tmp, udhcpcOnce, udpTool, until } from './helpers.js';

const skip = realnetAvailable(['busybox', 'dnsmasq']);

test(
  'proxy mode beside dnsmasq: address from dnsmasq, boot file from pxekit, 4011 ACK',
  { skip, timeout: 180_000 },
  async (t) => {
    await withLan(t, { name: 'dhprox', taps: 0 }, async (lan) => {
      const dir = tmp('dhprox');
      const site = await lan.addHost('dhcp', '10.77.0.3/24');
      const dns = lan.spawnIn(site, 'dnsmasq', [...dnsmasqDhcpArgs({ dir, name: 'site' }), '--log-dhcp']);
      await lan.waitForUdpListen(site, 67, 10_000);
      // udhcpc takes the first offer it hears (a PXE ROM waits for both): let the site server answer first.
      const pxe = await startPxekit(lan, dir, {
        dhcp: { mode: 'proxy', replyDelayMs: 300 },
        tftp: { enabled: false },
        http: { enabled: false },
        log: { level: 'debug' },
        plugins: ['boot-by-arch'],
      });
      await lan.waitForUdpListen(lan.srvNs, 4011, 10_000);
      const ctx = () =>
        `--- pxekit ---\n${fileLines(pxe.logFile).slice(-20).join('\n')}\n--- dnsmasq ---\n${dns.output().slice(-2000)}`;

      // Record every broadcast reply to port 68 on the client LAN.
      const seen = path.join(dir, 'seen.jsonl');
      const listener = lan.spawnIn(lan.cliNs, process.execPath, [udpTool, 'listen', '68', '25', seen]);
      await until(
        () => existsSync(seen),
        5_000,
        'the UDP listener to bind',
        () => listener.output(),
      );

      const out = path.join(dir, 'udhcpc.out');
      const u = await udhcpcOnce(lan, dir, out, { pxeVendor: PXE_VENDOR });
      assert.equal(u.code, 0, `${u.stderr}\n${ctx()}`);
      const boundLine = fileLines(out).find((l) => l.startsWith('bound'));
      assert.match(boundLine ?? '', /^bound ip=10\.77\.0\.1\d\d .*serverid=10\.77\.0\.3 /, ctx());
      const clientIp = /ip=(\S+)/.exec(boundLine!)![1]!;

      // Both offers went out: the site server's address offer and pxekit's boot-only offer.
      const offers = await until(
        () => {
          const packets = fileLines(seen)
            .map((l) => decode(Buffer.from((JSON.parse(l) as { hex: string }).hex, 'hex')))
            .filter((p) => getOption(p, 53) === 2);
          const ours = packets.find((p) => getOption(p, 54) === '10.77.0.1');
          const theirs = packets.find((p) => getOption(p, 54) === '10.77.0.3');
          return ours && theirs ? { ours, theirs } : undefined;
        },
        10_000,
        'both offers recorded',
        ctx,
      );
      assert.equal(offers.theirs.yiaddr, clientIp);
      assert.equal(offers.theirs.file, '');
      assert.equal(offers.ours.yiaddr, '0.0.0.0');
      assert.equal(offers.ours.file, 'undionly.kpxe');
      assert.equal(getOption(offers.ours, 60), 'PXEClient');
      assert.equal(parsePxeVendorOptions(offers.ours.options.get(43)!)?.discoveryControl, 8);
      // pxekit logs the offer as it sends it, its log written asynchronously: the listener may see the packet first.
      const logged = await until(() => pxe.events('dhcp.proxy.offer')[0], 10_000, 'dhcp.proxy.offer logged', ctx);
      assert.equal(logged.bootFile, 'undionly.kpxe');

      // The boot server answers a 4011 REQUEST from the client's new address, back to its port.
      const mac = offers.ours.mac;
      const req = createPacket({ op: BOOTREQUEST, xid: 0x31948b6c, ciaddr: clientIp, chaddr: chaddrFromMac(mac)! });
      setOption(req, 53, 3);
      setOption(req, 60, 'PXEClient:Arch:00007:UNDI:003000');
      setOption(req, 93, [7]);
      const ask = await lan.execIn(
        lan.cliNs,
        process.execPath,
        [udpTool, 'ask', '4011', '10.77.0.1', '4011', encode(req).toString('hex'), '5000'],
        { timeoutMs: 15_000 },
      );
      assert.equal(ask.code, 0, `${ask.stdout}${ask.stderr}\n${ctx()}`);
      const ack = decode(Buffer.from((JSON.parse(ask.stdout) as { hex: string }).hex, 'hex'));
      assert.equal(getOption(ack, 53), 5);
      assert.equal(ack.xid, 0x31948b6c);
      assert.equal(ack.file, 'ipxe.efi');
      assert.equal(ack.siaddr, '10.77.0.1');

      // A plain client (no PXEClient) still gets its address, and no proxy offer is sent for it.
      const before = pxe.events('dhcp.proxy.offer').length;
      const plain = await udhcpcOnce(lan, dir, out);
      assert.equal(plain.code, 0, plain.stderr);
      await sleep(1000);
      assert.equal(pxe.events('dhcp.proxy.offer').length, before);
    });
  },
);
