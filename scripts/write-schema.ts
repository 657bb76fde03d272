// Writes schema/pxekit.schema.json from the core schema (npm run schema); a test checks it is in sync.
import { writeFileSync } from 'node:fs';
import { coreConfigSchema } from '../core/config/schema.js';

writeFileSync(
  new URL('../schema/pxekit.schema.json', import.meta.url),
  `${JSON.stringify(coreConfigSchema, null, 2)}\n`,
);
