import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('a plugin that taps a hook with the wrong types does not compile', { timeout: 120_000 }, async () => {
  // Every `@ts-expect-error` in test/types must flag a real error: if the typing stops biting, tsc fails.
  const r = await promisify(execFile)(
    process.execPath,
    [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'test/types/tsconfig.json', '--noEmit'],
    { cwd: ROOT },
  ).then(
    () => ({ code: 0, stdout: '' }),
    (e: { code: number; stdout: string }) => e,
  );
  assert.equal(r.code, 0, r.stdout);
});

test('the whole project type-checks (TypeScript strict)', { timeout: 180_000 }, async () => {
  const r = await promisify(execFile)(
    process.execPath,
    [`${ROOT}node_modules/typescript/bin/tsc`, '-p', '.', '--noEmit'],
    { cwd: ROOT, maxBuffer: 16 << 20 },
  ).then(
    () => ({ code: 0, stdout: '' }),
    (e: { code: number; stdout: string }) => e,
  );
  assert.equal(r.code, 0, r.stdout);
});
