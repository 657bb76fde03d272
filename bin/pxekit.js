#!/usr/bin/env node
// The pxekit command: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` and
// `npm pack` run through `prepare`). No TypeScript loader at run time.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/core/cli-entry.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('pxekit: dist/ is missing. Fix: run `npm run build` in the pxekit folder (npm ci does it).');
  process.exit(1);
}
const { runCli } = await import(entry.href);
await runCli(process.argv.slice(2));
