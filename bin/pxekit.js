#!/usr/bin/env node
// The pxekit command: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` and
// `npm pack` run through `prepare`). No TypeScript loader at run time.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// V8 optimises a function after it has run for an "interrupt budget" of bytecode (default 66 KiB, a few
// ticks). A server that starts cold into a boot storm runs thousands of distinct functions a few hundred
// times each: at the default, V8's optimising compiler spends ~0.6 s of CPU per 500-machine storm on
// functions that barely run again. Four times the budget optimises only what stays hot: the compiler and GC
// threads used 0.2 s instead of 0.6 s per storm, main thread unchanged (docs/deployment.md). Set before
// the server's code loads, so its functions get it; a --interrupt-budget given to node wins.
if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) setFlagsFromString('--interrupt-budget=270336');

const entry = new URL('../dist/core/cli-entry.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('pxekit: dist/ is missing. Fix: run `npm run build` in the pxekit folder (npm ci does it).');
  process.exit(1);
}
const { runCli } = await import(entry.href);
await runCli(process.argv.slice(2));
