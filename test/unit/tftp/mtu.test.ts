import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { interfaceFor, mtuBlksizeFor } from '../../../core/tftp/mtu.js';

const hasSys = existsSync('/sys/class/net/lo/mtu');

test(
  'blksize cap = interface MTU − 32 for the interface holding the client',
  { skip: !hasSys && 'no /sys/class/net (not Linux)' },
  () => {
    assert.equal(interfaceFor('127.0.0.1'), 'lo');
    const mtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));
    assert.equal(mtuBlksizeFor('127.0.0.1'), mtu - 20 - 8 - 4);
  },
);

test('unknown or unparsable client addresses give no cap', () => {
  assert.equal(mtuBlksizeFor('not-an-ip'), undefined);
  assert.equal(mtuBlksizeFor('203.0.113.9'), undefined); // TEST-NET-3: on no local subnet
});
