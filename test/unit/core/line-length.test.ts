// No line over 140 columns in code (docs/conventions.md): Prettier wraps code at 120 but leaves strings,
// template literals, comments and shell scripts alone, so long messages are split by hand into
// concatenated pieces. Generated files and captured fixtures are left out.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { globSync } from 'glob';

const ROOT = join(import.meta.dirname, '../../..');
const MAX_COLUMNS = 140;

test(`no line in the code, tests, benchmarks and scripts is longer than ${MAX_COLUMNS} columns`, () => {
  const files = globSync('{core,plugins,test,bench,examples,bin,scripts,.ci}/**/{*.ts,*.mjs,*.js,*.sh,run}', {
    cwd: ROOT,
    dot: true,
    ignore: ['**/node_modules/**', '**/*.d.ts', 'test/**/fixtures/**', 'core/native/build/**'],
  });
  assert.ok(files.length > 300, `only ${files.length} files found`);
  const long = files.flatMap((f) =>
    readFileSync(join(ROOT, f), 'utf8')
      .split('\n')
      .flatMap((line, i) => ([...line].length > MAX_COLUMNS ? [`${f}:${i + 1}: ${[...line].length} columns`] : [])),
  );
  assert.deepEqual(long, [], 'split these lines (a long string: concatenated pieces at a space)');
});
