/**
 * An IPv6-only server (`dhcp.mode: off`, `dhcp6.mode: full`) keeps its DHCPv6 bindings in the lease-file
 * store: the Reply's binding is in the log, and a restarted server on the same file still knows the client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import leaseFile from '../../../plugins/lease-file/index.js';
import { decode, findOption, type Dhcp6Option, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import { makeServer } from '../dhcp-service/helpers.js';
import { dhcp6Config } from './config6.js';
import { iaNa } from '../../helpers/dhcp6-messages.js';

const config = dhcp6Config({ rapidCommit: true });
const DUID = Buffer.from('00030001525400d60001', 'hex');
const source = { address: 'fe80::5054:ff:fed6:1%eth0', port: 546 };
const msg = (type: number, options: Dhcp6Option[]): Dhcp6Packet => ({
  kind: 'message',
  msgType: type,
  transactionId: 0x42,
  options: [{ kind: 'client-id', duid: DUID }, ...options],
});
const ia = (address?: string): Dhcp6Option => iaNa(1, [address]);

test('dhcp6 full with dhcp.mode off: bindings go to the lease file and survive a restart', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pxk-lease6-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'leases.log');
  const first = makeServer(config, [leaseFile({ path: file })]).server;
  assert.equal(first.dhcp.leaseStore.name, 'file', 'the plugin provides its store for DHCPv6 too');
  const [out] = await first.dhcp6.inject(msg(1, [ia(), { kind: 'rapid-commit' }]), source);
  const reply = decode(out!.buffer);
  assert.equal(reply.msgType, 7);
  const address = findOption(findOption(reply.options, 'ia-na')!.options, 'iaaddr')!.address;
  assert.match(
    readFileSync(file, 'utf8'),
    new RegExp(`"ip":"${address}","mac":"v6:[0-9a-f]+:00000001","state":"bound"`),
  );
  const sid = { kind: 'server-id' as const, duid: first.dhcp6.serverDuid };
  await first.close();

  const second = makeServer(config, [leaseFile({ path: file })]).server;
  t.after(() => second.close());
  const [renewed] = await second.dhcp6.inject(msg(5, [sid, ia(address)]), source);
  const inner = findOption(decode(renewed!.buffer).options, 'ia-na')!.options;
  assert.equal(findOption(inner, 'status-code'), undefined, 'no NoBinding: the restarted server knows it');
  assert.equal(findOption(inner, 'iaaddr')?.address, address);
});
