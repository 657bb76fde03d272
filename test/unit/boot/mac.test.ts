import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeMac, parseMacPattern, macDashes } from '../../../core/boot/mac.js';
import { globMatch } from '../../../core/boot/glob.js';
import { expandVars, joinUrl } from '../../../core/boot/url.js';

test('normalizeMac accepts the usual notations and rejects the rest', () => {
  for (const s of ['52:54:00:AA:bb:0c', '52-54-00-aa-bb-0c', '5254.00aa.bb0c', '525400aabb0c', '52:54:0:aa:bb:c']) {
    assert.equal(normalizeMac(s), '52:54:00:aa:bb:0c', s);
  }
  for (const s of ['52:54:00:aa:bb', '52:54:00:aa:bb:cc:dd', 'zz:54:00:aa:bb:cc', '', '5254.00aa'])
    assert.equal(normalizeMac(s), undefined, s);
  assert.equal(macDashes('52:54:00:aa:bb:0c'), '52-54-00-aa-bb-0c');
});

test('MAC patterns: exact, OUI, octet globs', () => {
  const m = (p: string, mac: string) => {
    const c = parseMacPattern(p);
    if ('error' in c) throw new Error(c.error);
    return c.matches(mac);
  };
  assert.equal(m('52:54:00', '52:54:00:12:34:56'), true);
  assert.equal(m('525400', '52:54:01:12:34:56'), false);
  assert.equal(m('52:54:00:*', '52:54:00:12:34:56'), true);
  assert.equal(m('*:ab:cd', '00:11:22:33:ab:cd'), true);
  assert.equal(m('*:ab:cd', '00:11:22:ab:cd:33'), false);
  assert.equal(m('52:54:0?:*', '52:54:0a:00:00:01'), true);
  assert.equal(m('52:*:01', '52:54:0a:00:00:01'), true);
  assert.equal(m('52:54:00:12:34:56', '52:54:00:12:34:57'), false);
  for (const bad of ['52:54:00:12', 'hello', '52:54:00:1234:*']) assert.ok('error' in parseMacPattern(bad), bad);
});

test('globMatch, joinUrl never makes //, expandVars leaves unknown names for iPXE', () => {
  assert.equal(globMatch('PXEClient:Arch:00007*', 'PXEClient:Arch:00007:UNDI:003000'), true);
  assert.equal(globMatch('x64-uefi', 'x64-uefi-http'), false);
  assert.equal(globMatch('x64-*', 'x64-uefi-http'), true);
  assert.equal(joinUrl('http://10.0.0.1/', '/ipxe.efi'), 'http://10.0.0.1/ipxe.efi');
  assert.equal(joinUrl('http://10.0.0.1', 'http://x/y'), 'http://x/y');
  assert.equal(
    expandVars('/boot.ipxe?mac=${mac}&a=${buildarch}', { mac: '52:54:00:aa:bb:cc' }),
    '/boot.ipxe?mac=52:54:00:aa:bb:cc&a=${buildarch}',
  );
});
