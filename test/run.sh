#!/usr/bin/env bash
# The test command (`npm test`): runs every test file under test/ and plugins/ with node's runner via tsx.
# Usage: test/run.sh [unit|integration|e2e|package|all]   (default all)
# Node 20's --test does not expand globs, so the file list comes from find.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
case "$what" in
  unit) roots=(test/unit plugins examples) ;;
  integration) roots=(test/integration) ;;
  e2e) roots=(test/e2e) ;;
  package) roots=(test/package) ;;
  all) roots=(test/unit plugins examples test/package test/integration test/e2e) ;;
  *) echo "usage: test/run.sh [unit|integration|e2e|package|all]" >&2; exit 2 ;;
esac
# The CLI and spawned servers run the compiled dist/ (bin/pxekit.js): build it first (a few seconds).
npx tsc -p tsconfig.build.json
files=()
for r in "${roots[@]}"; do
  [ -d "$r" ] || continue
  while IFS= read -r f; do files+=("$f"); done < <(find "$r" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
done
# One style, enforced: ESLint (typed rules) and Prettier run before the tests in a full run.
if [ "$what" = all ]; then
  echo "# lint: eslint + prettier --check"
  if ! { npx eslint . && npx prettier --check . >/dev/null; }; then
    echo "test/run.sh: lint failed (npm run lint; npm run format fixes formatting)" >&2
    exit 1
  fi
fi
if [ ${#files[@]} -eq 0 ]; then echo "test/run.sh: no test files found for '$what'" >&2; exit 1; fi
# Tests that use network namespaces or QEMU pick unique names, but two cores cannot run many guests at once.
# --conditions=source: `pxekit` and `pxekit/...` resolve to the TypeScript sources (package.json exports).
exec node --conditions=source --import tsx --test --test-concurrency="${PXEKIT_TEST_CONCURRENCY:-2}" "${files[@]}"
