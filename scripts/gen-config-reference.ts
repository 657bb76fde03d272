// Generates docs/config-reference.md from the core JSON Schema and every built-in plugin's optionsSchema
// (npm run docs:config). A test fails when the file is out of date.
import { writeFileSync } from 'node:fs';
import { builtinPluginNames } from '../core/config/resolve-plugins.js';
import { coreConfigSchema } from '../core/config/schema.js';
import { isPlugin } from '../core/plugin.js';

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema | Schema[];
  required?: string[];
  format?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
}

function typeOf(s: Schema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeOf).join(' \\| ');
  let t = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  if (t === 'array' && s.items && !Array.isArray(s.items)) t = `${typeOf(s.items)}[]`;
  if (s.format) t += ` (${s.format})`;
  if (s.minimum !== undefined || s.maximum !== undefined) t += ` ${s.minimum ?? ''}..${s.maximum ?? ''}`;
  return t;
}

function rows(s: Schema, prefix: string, out: string[], required: Set<string> = new Set()): void {
  for (const [key, sub] of Object.entries(s.properties ?? {})) {
    if (key === '$schema') continue;
    const path = prefix ? `${prefix}.${key}` : key;
    const def =
      sub.default === undefined ? (required.has(key) ? '**required**' : '') : `\`${JSON.stringify(sub.default)}\``;
    out.push(
      `| \`${path}\` | ${typeOf(sub)} | ${def} | ${(sub.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
    );
    if (sub.properties) rows(sub, path, out, new Set(sub.required));
    if (sub.items && !Array.isArray(sub.items) && sub.items.properties)
      rows(sub.items, `${path}[]`, out, new Set(sub.items.required));
  }
}

export async function configReference(): Promise<string> {
  const out = [
    '# Configuration reference',
    '',
    'Generated from the JSON Schemas by `npm run docs:config` — do not edit by hand.',
    'The config file shape and loading rules are in [config.md](config.md).',
    '',
    '## Core',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
  ];
  rows(coreConfigSchema as unknown as Schema, '', out);
  for (const name of builtinPluginNames()) {
    const mod = (await import(`../plugins/${name}/index.ts`)) as { default?: unknown };
    const factory = mod.default;
    const plugin = typeof factory === 'function' ? (factory as (o: unknown) => unknown)({}) : factory;
    if (!isPlugin(plugin)) continue;
    out.push('', `## Plugin \`${name}\``, '', `See [plugins/${name}/README.md](../plugins/${name}/README.md).`, '');
    const schema = plugin.optionsSchema as Schema | undefined;
    if (!schema?.properties || Object.keys(schema.properties).length === 0) {
      out.push('No options.');
      continue;
    }
    out.push('| option | type | default | description |', '|---|---|---|---|');
    rows(schema, '', out, new Set(schema.required));
  }
  return `${out.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/config-reference.md', import.meta.url), await configReference());
}
