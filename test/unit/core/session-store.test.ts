import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionStore } from '../../../core/session/store.js';

const mac = (i: number) =>
  `52:54:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

test('at the bound, each new client evicts the least recently seen one, also after many touches and evictions', () => {
  const store = new SessionStore({ maxSessions: 100 });
  for (let i = 0; i < 100; i++) store.upsert(mac(i));
  // Clients 0-9 come back (seen again: newest now), then 5,000 new clients pass through one by one.
  for (let i = 0; i < 10; i++) store.upsert(mac(i));
  for (let i = 100; i < 5100; i++) {
    store.upsert(mac(i), { ip: `10.0.${i >> 8}.${i & 0xff}` });
    assert.equal(store.size, 100);
    if (i % 7 === 0) store.upsert(mac(i - 50)); // a client in the middle is seen again: it is kept longest
  }
  const kept = new Set(store.all().map((s) => s.mac));
  assert.equal(kept.size, 100);
  // Kept: the newest clients, and the ones seen again recently; never one of the first 100.
  for (let i = 0; i < 100; i++) assert.ok(!kept.has(mac(i)), `client ${i} should have been evicted`);
  for (let i = 5050; i < 5100; i++) assert.ok(kept.has(mac(i)), `client ${i} is among the 50 newest`);
  assert.equal(store.byIp('10.0.0.150'), undefined); // an evicted client's address no longer finds it
  assert.equal(store.byIp(`10.0.${5099 >> 8}.${5099 & 0xff}`)?.mac, mac(5099));
});

test('eviction order is least recently seen first', () => {
  const store = new SessionStore({ maxSessions: 3 });
  store.upsert('a');
  store.upsert('b');
  store.upsert('c');
  store.upsert('a'); // seen again: b is now the oldest
  store.upsert('d');
  assert.deepEqual(
    store.all().map((s) => s.mac),
    ['c', 'a', 'd'],
  );
  store.limit({ maxSessions: 1 });
  assert.deepEqual(
    store.all().map((s) => s.mac),
    ['d'],
  );
  store.upsert('e');
  store.upsert('d');
  assert.deepEqual(
    store.all().map((s) => s.mac),
    ['d'],
  );
});
