#!/usr/bin/env node
// The pxekit command. pxekit ships TypeScript sources and runs them through tsx (no build step),
// so `npm start`, `npx pxekit` and a global install all run the same code.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../core/cli-entry.ts');
await runCli(process.argv.slice(2));
