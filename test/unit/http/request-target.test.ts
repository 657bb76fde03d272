import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestTarget } from '../../../core/http/request-target.js';
import { contentTypeFor } from '../../../core/http/content-type.js';
import { clientIp, macFromUrl, parseMac } from '../../../core/http/session-lookup.js';

const ok = (u: string) => {
  const r = parseRequestTarget(u);
  assert.ok(r.ok, `${u} should be accepted`);
  return r;
};
const refused = (u: string | undefined) => {
  const r = parseRequestTarget(u);
  assert.equal(r.ok, false, `${u} should be refused`);
};

test('paths are decoded once and normalised, never redirected', () => {
  assert.equal(ok('/boot.ipxe').path, '/boot.ipxe');
  assert.equal(ok('//ipxe//boot.ipxe').path, '/ipxe/boot.ipxe');
  assert.equal(ok('/./a/./b').path, '/a/b');
  assert.equal(ok('/a%20b').path, '/a b');
  assert.equal(ok('/a%2fb').path, '/a/b');
  assert.equal(ok('/%252e%252e/x').path, '/%2e%2e/x', 'double-encoded dots stay a literal name');
  assert.equal(ok('http://10.0.0.1:8080/x?y=1').path, '/x');
  const q = ok('/boot.ipxe?mac=52:54:00:12:34:56&x=%20');
  assert.equal(q.query.get('mac'), '52:54:00:12:34:56');
  assert.equal(q.query.get('x'), ' ');
});

test('traversal, control characters and bad encodings are refused with 400', () => {
  for (const u of [
    '/../etc/passwd',
    '/a/../../b',
    '/%2e%2e/etc/passwd',
    '/a/%2E%2E/b',
    '/..%2f..%2fetc',
    '/..%5c..%5cetc',
    '/a%00b',
    '/%',
    '/%zz',
    '/%e0%a4%a',
    'relative',
    '',
    undefined,
    '*',
  ]) {
    refused(u);
  }
});

test('MACs in URLs: query (separated or bare), path segments (iPXE, pxelinux 01- prefix)', () => {
  assert.equal(parseMac('52:54:00:AB:CD:EF'), '52:54:00:ab:cd:ef');
  assert.equal(parseMac('01-52-54-00-ab-cd-ef'), '52:54:00:ab:cd:ef');
  assert.equal(parseMac('525400abcdef'), undefined);
  assert.equal(parseMac('525400abcdef', true), '52:54:00:ab:cd:ef');
  assert.equal(parseMac('52:54:00:ab:cd'), undefined);
  assert.deepEqual(macFromUrl('/x', new URLSearchParams('mac=52-54-00-12-34-56')), {
    mac: '52:54:00:12:34:56',
    via: 'query',
  });
  assert.deepEqual(macFromUrl('/mac/52-54-00-12-34-56/boot.ipxe', new URLSearchParams()), {
    mac: '52:54:00:12:34:56',
    via: 'path',
  });
  assert.deepEqual(macFromUrl('/pxelinux.cfg/01-52-54-00-12-34-56', new URLSearchParams()), {
    mac: '52:54:00:12:34:56',
    via: 'path',
  });
  assert.equal(macFromUrl('/boot/525400123456', new URLSearchParams()), undefined);
  assert.equal(macFromUrl('/boot.ipxe', new URLSearchParams('mac=garbage')), undefined);
});

test('client IP: IPv4-mapped addresses are unwrapped', () => {
  assert.equal(clientIp('::ffff:10.0.0.5'), '10.0.0.5');
  assert.equal(clientIp('10.0.0.5'), '10.0.0.5');
  assert.equal(clientIp('fe80::1'), 'fe80::1');
  assert.equal(clientIp(undefined), '');
});

test('content types by extension', () => {
  assert.equal(contentTypeFor('/boot.ipxe'), 'text/plain; charset=utf-8');
  assert.equal(contentTypeFor('/grub/grub.cfg'), 'text/plain; charset=utf-8');
  assert.equal(contentTypeFor('/ipxe.EFI'), 'application/octet-stream');
  assert.equal(contentTypeFor('/undionly.kpxe'), 'application/octet-stream');
  assert.equal(contentTypeFor('/vmlinuz'), 'application/octet-stream');
  assert.equal(contentTypeFor('/.hidden'), 'application/octet-stream');
  assert.equal(contentTypeFor('/a.b/vmlinuz'), 'application/octet-stream');
});
