/**
 * A plugin that fails on every DHCPv6 message is logged once a second with a count (core/util/log-limit.ts),
 * not once per message: a flood of Solicits cannot turn a plugin bug into a log flood.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import { failingClassify, makeServer } from '../dhcp-service/helpers.js';
import { dhcp6Config } from './config6.js';

const solicit = (xid: number): Dhcp6Packet => ({
  kind: 'message',
  msgType: 1,
  transactionId: xid,
  options: [
    { kind: 'client-id', duid: Buffer.from('00030001525400d60009', 'hex') },
    { kind: 'elapsed-time', centiseconds: 0 },
    { kind: 'ia-na', iaid: 1, t1: 0, t2: 0, options: [] },
  ],
});

test('DHCPv6: a plugin failing on every message is logged once a second with a count', async () => {
  const s = makeServer(dhcp6Config(), [failingClassify()]);
  for (let i = 0; i < 30; i++) {
    const out = await s.server.dhcp6.inject(solicit(i + 1), { address: 'fe80::5054:ff:fed6:9%eth0', port: 546 });
    assert.deepEqual(out, [], 'dropped');
  }
  const errors = () => s.lines.filter((l) => l.event === 'dhcp6.hook.error');
  assert.equal(errors().length, 1, 'one line while the failures go on');
  assert.equal(s.server.dhcp6.stats.dropped, 30);
  await new Promise((r) => setTimeout(r, 1200)); // the interval ends: one line for the 29 held back
  assert.deepEqual(
    errors().map((l) => [l.plugin, l.suppressed]),
    [
      ['bad', undefined],
      ['bad', 29],
    ],
  );
});
