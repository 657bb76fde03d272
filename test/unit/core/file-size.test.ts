// Files stay under 400 lines, one job each (RULES.md, docs/conventions.md): a file that grows past it is
// split by job, not squeezed into long lines (Prettier keeps lines at 120). Checked for the code that
// ships and the benchmarks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { globSync } from 'glob';

const ROOT = join(import.meta.dirname, '../../..');
const MAX_LINES = 400;

test(`every .ts file in core/, plugins/, bench/, examples/ and scripts/ has at most ${MAX_LINES} lines`, () => {
  const files = globSync('{core,plugins,bench,examples,scripts}/**/*.ts', {
    cwd: ROOT,
    ignore: ['**/node_modules/**', '**/*.d.ts'],
  });
  assert.ok(files.length > 200, `only ${files.length} files found`);
  const long = files
    .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
    .filter((x) => x.lines > MAX_LINES)
    .map((x) => `${x.f}: ${x.lines} lines`)
    .sort();
  assert.deepEqual(long, [], 'split these by job');
});
