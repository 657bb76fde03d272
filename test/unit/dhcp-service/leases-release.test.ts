import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLeaseStore } from '../../../core/dhcp/leases/memory-store.js';

test('release with onlyState frees an offer but never a lease bound in between (shared-store race)', async () => {
  const store = new MemoryLeaseStore();
  const now = 1_000_000;
  const w = { ip: '10.0.0.5', mac: 'aa:bb:cc:dd:ee:01', expiresAt: now + 30_000, subnet: '10.0.0.0/24' };
  await store.offer(w, now);
  await store.commit({ ...w, expiresAt: now + 3_600_000 }, now + 1);
  assert.equal(await store.release(w.mac, w.ip, now + 2, 'offered'), false);
  assert.equal((await store.getByIp(w.ip))?.state, 'bound');
  assert.equal(await store.release(w.mac, w.ip, now + 3), true);
  await store.offer({ ...w, mac: 'aa:bb:cc:dd:ee:02' }, now + 4);
  assert.equal(await store.release('aa:bb:cc:dd:ee:02', w.ip, now + 5, 'offered'), true);
});
