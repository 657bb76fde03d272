/** The lease-file plugin inside a server: full-mode DORA lands in the file; outside full mode it stays out. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST } from 'pxekit/kit';
import { makeServer, request } from '../../test/unit/dhcp-service/helpers.js';
import type { FileLeaseStore } from './file-store.js';
import leaseFile from './index.js';

test('the plugin: full-mode DORA through the server; the ACKed lease is in the file', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pxk-lease-plugin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = {
    dhcp: {
      mode: 'full' as const,
      port: 0,
      serverAddress: '10.99.0.1',
      pools: [
        {
          subnet: '10.99.0.0/24',
          range: ['10.99.0.10', '10.99.0.20'] as [string, string],
          leaseTime: 600,
          reservations: [],
        },
      ],
    },
  };
  const logFile = path.join(dir, 'state', 'leases.log');
  const { server } = makeServer(config, [leaseFile({ path: logFile })]);
  t.after(() => server.close());
  assert.equal(server.dhcp.leaseStore.name, 'file');
  const mac = '02:aa:00:00:00:01';
  const local = { local: { address: '10.99.0.1', interface: 'eth0' } };
  const [offer] = await server.inject.dhcp(request(mac, DHCPDISCOVER), local);
  assert.equal(offer?.packet.options.get(53)?.[0], DHCPOFFER);
  const yiaddr = offer!.packet.yiaddr;
  const [ack] = await server.inject.dhcp(request(mac, DHCPREQUEST, {}, { 50: yiaddr, 54: '10.99.0.1' }), local);
  assert.equal(ack?.packet.options.get(53)?.[0], DHCPACK);
  const onDisk = readFileSync(logFile, 'utf8');
  assert.match(onDisk, new RegExp(`"ip":"${yiaddr.replace(/\./g, '\\.')}","mac":"${mac}","state":"bound"`));
  await server.close();
  // A relative path is resolved against the config's folder (baseDir).
  const { server: rel } = makeServer(config, [leaseFile({ path: 'rel/leases.log' })]);
  const store = rel.dhcp.leaseStore as FileLeaseStore;
  assert.equal(store.snapshotFile, path.join(rel.baseDir, 'rel', 'leases.log.snapshot'));
});

test('outside full mode the plugin warns and registers nothing', () => {
  const { server, lines } = makeServer({ dhcp: { mode: 'proxy' } }, [leaseFile({ path: '/nonexistent/leases.log' })]);
  assert.equal(server.dhcp.leaseStore.name, 'memory');
  assert.ok(lines.some((l) => l.event === 'lease-file.unused' && l.mode === 'proxy'));
});
