import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../../../core/errors.js';

test('every error code is documented in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const missing = Object.keys(ERROR_CODES).filter((code) => !new RegExp(`^## ${code}\\b`, 'm').test(doc));
  assert.deepEqual(missing, [], `add a "## CODE" section to docs/errors.md for: ${missing.join(', ')}`);
});

test('bind errors name the port and the fix an operator needs', async () => {
  const { listenError } = await import('../../../core/errors.js');
  const perm = listenError(Object.assign(new Error('x'), { code: 'EACCES' }), 'DHCP server', 67);
  assert.equal(perm.code, 'PXE_ERR_LISTEN_PERMISSION');
  assert.match(perm.message, /0\.0\.0\.0:67: permission denied/);
  assert.match(perm.fix ?? '', /root.*cap_net_bind_service.*another port/s);
  const busy = listenError(Object.assign(new Error('x'), { code: 'EADDRINUSE' }), 'TFTP server', 69, '10.0.0.1');
  assert.equal(busy.code, 'PXE_ERR_LISTEN_IN_USE');
  assert.match(busy.fix ?? '', /ss -lunp 'sport = :69'/);
});
