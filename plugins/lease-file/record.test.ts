/** The lease file's record format: the hand-built hot-path line against the generic framing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lease } from 'pxekit/kit';
import { frame, logLine, ordered } from './record.js';

const SUBNET = '10.0.0.0/16';

test('the hand-built log line is exactly the generic frame of the same record', () => {
  const leases: Lease[] = [
    {
      ip: '10.0.0.1',
      mac: '02:00:00:00:00:01',
      state: 'bound',
      expiresAt: 1795636931951,
      subnet: SUBNET,
      updatedAt: 1795636901951,
    },
    {
      ip: '10.0.0.2',
      mac: '',
      state: 'declined',
      expiresAt: 5,
      subnet: SUBNET,
      updatedAt: 4,
      clientId: '01aabb',
      hostname: 'we"ird\\name\u00e9\n',
    },
  ];
  for (const l of leases) assert.equal(logLine(7, l), frame({ q: 7, l: ordered(l) }));
});
