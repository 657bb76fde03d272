/**
 * sessionForPath and requestLocal (pxekit/kit): which session a per-host path is about — the MAC in the path
 * first, then the protocol's session, then the source IP — and only when the path's IP, IP-in-hex and GUID
 * agree with it; the local address of an HTTP request with `::ffff:` unwrapped.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { compilePathPattern, requestLocal, sessionForPath, type PathPattern } from 'pxekit/kit';
import { SessionStore } from '../../../core/session/store.js';

function pattern(source: string): PathPattern {
  const p = compilePathPattern(source);
  if ('error' in p) throw new Error(p.error);
  return p;
}

test('sessionForPath: MAC in the path, then the attached session, then the source IP; IP, hex IP and GUID must agree', () => {
  const server = { sessions: new SessionStore() };
  const a = server.sessions.upsert('52:54:00:00:00:0a', {
    ip: '10.0.0.10',
    guid: 'AABBCCDD-0000-0000-0000-000000000001',
  });
  const b = server.sessions.upsert('52:54:00:00:00:0b', { ip: '10.0.0.11' });

  const byMac = pattern('/pxelinux.cfg/01-{{mac_dashes}}').match('/pxelinux.cfg/01-52-54-00-00-00-0a')!;
  assert.equal(sessionForPath(server, byMac, { session: b, clientAddress: '10.0.0.11' }), a, 'the path names a');
  const unknown = pattern('/m/{{mac}}').match('/m/52:54:00:00:00:99')!;
  assert.equal(sessionForPath(server, unknown, {})?.mac, '52:54:00:00:00:99', 'a blank session for a new MAC');

  const plain = pattern('/boot.ipxe').match('/boot.ipxe')!;
  assert.equal(sessionForPath(server, plain, { session: b }), b);
  assert.equal(sessionForPath(server, plain, { clientAddress: '10.0.0.10' }), a, 'by source IP');
  assert.equal(sessionForPath(server, plain, {}), undefined);

  const hex = pattern('/grub/grub.cfg-{{ip_hex}}');
  assert.equal(sessionForPath(server, hex.match('/grub/grub.cfg-0A00000A')!, { clientAddress: '10.0.0.10' }), a);
  assert.equal(sessionForPath(server, hex.match('/grub/grub.cfg-0A00')!, { clientAddress: '10.0.0.10' }), a, 'short');
  assert.equal(
    sessionForPath(server, hex.match('/grub/grub.cfg-0A00000B')!, { clientAddress: '10.0.0.10' }),
    undefined,
  );

  const ip = pattern('/by-ip/{{ip}}');
  assert.equal(sessionForPath(server, ip.match('/by-ip/10.0.0.10')!, { session: a }), a);
  assert.equal(sessionForPath(server, ip.match('/by-ip/10.0.0.99')!, { session: a }), undefined);

  const uuid = pattern('/grub/grub.cfg-{{uuid}}');
  const hitA = uuid.match('/grub/grub.cfg-aabbccdd-0000-0000-0000-000000000001')!;
  assert.equal(sessionForPath(server, hitA, { session: a }), a, 'GUIDs compare without case');
  assert.equal(sessionForPath(server, hitA, { session: b }), undefined);
});

test('requestLocal: the address an HTTP request arrived on, IPv4-mapped unwrapped', () => {
  const req = (localAddress?: string) => ({ socket: { localAddress } }) as unknown as IncomingMessage;
  assert.deepEqual(requestLocal(req('::ffff:10.0.0.1')), { address: '10.0.0.1' });
  assert.deepEqual(requestLocal(req('fd00::1')), { address: 'fd00::1' });
  assert.equal(requestLocal(req(undefined)), undefined);
});
