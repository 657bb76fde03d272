import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LITERAL_PATH_OPTIONS, normalizeVirtualPath } from '../../../core/files/path.js';

const ok = (raw: string, opts?: { decodePercent?: boolean }) => {
  const r = normalizeVirtualPath(raw, opts);
  assert.ok(r.ok, `${JSON.stringify(raw)} refused: ${r.ok ? '' : r.reason}`);
  return r.path;
};
const refused = (raw: string, opts?: { decodePercent?: boolean }) => {
  const r = normalizeVirtualPath(raw, opts);
  assert.equal(r.ok, false, `${JSON.stringify(raw)} accepted as ${r.ok ? r.path : ''}`);
};

test('plain, absolute and redundant paths map onto the virtual root', () => {
  assert.equal(ok('ipxe.efi'), '/ipxe.efi');
  assert.equal(ok('/ipxe.efi'), '/ipxe.efi');
  assert.equal(ok('//boot///x/./y'), '/boot/x/y');
  assert.equal(ok('pxelinux.cfg/01-52-54-00-12-34-56'), '/pxelinux.cfg/01-52-54-00-12-34-56');
});

test('backslashes are converted to slashes (Windows-made pxelinux configs)', () => {
  assert.equal(ok('boot\\pxelinux.0'), '/boot/pxelinux.0');
  assert.equal(ok('\\boot\\x64\\wdsnbp.com'), '/boot/x64/wdsnbp.com');
});

test('traversal attempts are refused in every spelling', () => {
  for (const p of [
    '..',
    '../etc/passwd',
    '/../etc/passwd',
    'a/../../etc/passwd',
    'a/..',
    '..\\..\\windows\\win.ini',
    'a\\..\\..\\b',
    '%2e%2e/etc/passwd',
    '%2E%2E',
    'a/%2e%2e/b',
    '%2e%2e%2fetc%2fpasswd',
    '..%2fetc',
    '%252e%252e/x',
    '%2e',
    'a/%2e./b',
  ]) {
    refused(p);
    refused(p, { decodePercent: true });
  }
});

test('TFTP keeps other percent sequences literal; HTTP decodes them', () => {
  assert.equal(ok('a%20b'), '/a%20b');
  assert.equal(ok('a%20b', { decodePercent: true }), '/a b');
  assert.equal(ok('x%zz'), '/x%zz');
  refused('x%zz', { decodePercent: true });
});

test('NUL, control characters, empty paths and over-long paths are refused', () => {
  refused('a\u0000b');
  refused('a\nb');
  refused('a%00b', { decodePercent: true });
  refused('');
  refused('/');
  refused('./.');
  refused('a'.repeat(2000));
  refused('a/' + 'b'.repeat(300));
  refused('bad\uFFFDname');
});

test('LITERAL_PATH_OPTIONS (files.resolve, HTTP): root allowed, encoded dots literal, `..` still refused', () => {
  const lit = (raw: string) => normalizeVirtualPath(raw, LITERAL_PATH_OPTIONS);
  assert.deepEqual(lit('/'), { ok: true, path: '/' });
  assert.deepEqual(lit('/%2e%2e/x'), { ok: true, path: '/%2e%2e/x' });
  for (const p of ['/../x', 'a\\..\\b', 'a/..', '', 'a\u0000b']) assert.equal(lit(p).ok, false, p);
  assert.equal(lit('ab/'.repeat(700)).ok, true, 'HTTP keeps its 4096-character bound');
});

test('the default and literal option sets are memoised by raw path: same frozen result, same answer as uncached', () => {
  for (const opts of [undefined, LITERAL_PATH_OPTIONS]) {
    const a = normalizeVirtualPath('/boot//ipxe.efi', opts);
    assert.equal(normalizeVirtualPath('/boot//ipxe.efi', opts), a, 'the second call returns the memoised result');
    assert.ok(Object.isFrozen(a));
    assert.deepEqual(a, normalizeVirtualPath('/boot//ipxe.efi', { ...opts }), 'an equal options object, not memoised');
    const bad = normalizeVirtualPath('/a/../b', opts);
    assert.equal(normalizeVirtualPath('/a/../b', opts), bad);
    assert.equal(bad.ok, false);
  }
  // The two sets keep apart what they decide differently.
  assert.equal(normalizeVirtualPath('/%2e%2e/x').ok, false);
  assert.deepEqual(normalizeVirtualPath('/%2e%2e/x', LITERAL_PATH_OPTIONS), { ok: true, path: '/%2e%2e/x' });
  // Bounded: after more distinct paths than it holds, answers stay right.
  for (let i = 0; i < 1200; i++) assert.equal(ok(`/f${i}//x`), `/f${i}/x`);
  assert.equal(ok('/boot//ipxe.efi'), '/boot/ipxe.efi');
});
