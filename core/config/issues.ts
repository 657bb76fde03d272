import type { ErrorObject } from 'ajv';
import { PxeError } from '../errors.js';

/** One problem in a config: where it is, what was found, what was expected, and how to fix it. */
export interface ConfigIssue {
  file?: string;
  /** `dhcp.pools[0].range` or, for a plugin option, `plugins[2] (mac-allowlist) allow[0]`. */
  path: string;
  message: string;
  found?: string;
  expected?: string;
  fix: string;
}

/** Thrown with every issue at once, so an operator fixes the file in one pass. */
export class ConfigError extends PxeError {
  readonly issues: ConfigIssue[];
  constructor(
    issues: ConfigIssue[],
    code:
      | 'PXE_ERR_CONFIG_INVALID'
      | 'PXE_ERR_PLUGIN_NOT_FOUND'
      | 'PXE_ERR_PLUGIN_INVALID'
      | 'PXE_ERR_PLUGIN_DUPLICATE'
      | 'PXE_ERR_PLUGIN_DEPENDENCY'
      | 'PXE_ERR_RELOAD_REFUSED' = 'PXE_ERR_CONFIG_INVALID',
  ) {
    const lines = issues.map(formatIssue);
    super(
      code,
      `${issues.length} config problem${issues.length === 1 ? '' : 's'}:\n${lines.map((l) => `  - ${l}`).join('\n')}`,
      {
        fix: issues.map((i) => i.fix).join('; '),
        details: { issues },
      },
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.file ? `${i.file}: ${i.path}` : i.path;
  const fe = [i.found !== undefined ? `found ${i.found}` : '', i.expected !== undefined ? `expected ${i.expected}` : '']
    .filter(Boolean)
    .join(', ');
  return `${where}: ${i.message}${fe ? ` (${fe})` : ''}. Fix: ${i.fix}`;
}

/** `/dhcp/pools/0/range` → `dhcp.pools[0].range` (what an operator sees in YAML/JSON). */
export function pointerToPath(pointer: string, prefix = ''): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' || out.endsWith(' ') ? seg : `.${seg}`;
  }
  return out === '' ? '(top level)' : out;
}

/** `integer` → "an integer", `["string","boolean"]` → "a string or a boolean". */
export function typeNames(type: unknown): string {
  const names = (Array.isArray(type) ? type : String(type).split(',')).map((t) => String(t).trim());
  return names.map((t) => `${/^[aeiou]/i.test(t) ? 'an' : 'a'} ${t}`).join(' or ');
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function resolvePointer(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * Turns Ajv errors into operator issues. `anyOf` noise (one error per branch) is collapsed: we keep the
 * branch errors only when nothing more specific was reported for that path.
 */
export function ajvIssues(
  errors: ErrorObject[] | null | undefined,
  data: unknown,
  opts: { file?: string; pathPrefix?: string; schemaTitle?: string } = {},
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    let pointer = e.instancePath;
    let found = show(resolvePointer(data, pointer));
    let message = e.message ?? 'is invalid';
    let expected: string | undefined;
    let fix: string;
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(p['additionalProperty']);
        pointer = `${pointer}/${key}`;
        const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const guess = closest(key, allowed);
        message = `unknown key "${key}"`;
        found = show(resolvePointer(data, pointer));
        expected = allowed.length ? `one of: ${allowed.join(', ')}` : 'no other keys';
        fix = guess ? `did you mean "${guess}"? rename the key` : 'remove the key, or check its spelling';
        break;
      }
      case 'required': {
        const key = String(p['missingProperty']);
        pointer = `${pointer}/${key}`;
        message = `"${key}" is required`;
        found = 'nothing';
        const prop = (e.parentSchema as { properties?: Record<string, { description?: string }> } | undefined)
          ?.properties?.[key];
        expected = prop?.description ?? 'a value';
        fix = `add "${key}"`;
        break;
      }
      case 'enum':
        expected = `one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        message = 'is not an allowed value';
        fix = `use ${expected}`;
        break;
      case 'type':
        expected = typeNames(p['type']);
        message = `must be ${expected}`;
        fix = `write ${expected} here`;
        break;
      case 'format':
        expected = `a valid ${String(p['format'])}`;
        message = `is not ${expected}`;
        fix =
          `write ${expected} (e.g. ` +
          `${p['format'] === 'ipv4' ? '10.0.0.1' : p['format'] === 'uri' ? 'http://10.0.0.1/' : 'see docs/config.md'})`;
        break;
      case 'pattern': {
        const desc = (e.parentSchema as { description?: string } | undefined)?.description;
        expected = desc ?? `text matching ${String(p['pattern'])}`;
        message = 'has the wrong form';
        fix = `write ${expected}`;
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        expected = `${String(p['comparison'])} ${String(p['limit'])}`;
        message = `is out of range`;
        fix = `use a number ${expected}`;
        break;
      case 'minItems':
      case 'maxItems':
      case 'minLength':
      case 'maxLength':
        expected =
          `${e.keyword.startsWith('min') ? 'at least' : 'at most'} ${String(p['limit'])} ` +
          `${e.keyword.endsWith('Items') ? 'items' : 'characters'}`;
        message = `has the wrong length`;
        fix = `give ${expected}`;
        break;
      default:
        fix = `make it match the schema (${e.keyword})`;
    }
    const path = pointerToPath(pointer, opts.pathPrefix ?? '');
    const dedupe = `${path}|${message}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    out.push({
      ...(opts.file ? { file: opts.file } : {}),
      path,
      message,
      found,
      ...(expected !== undefined ? { expected } : {}),
      fix,
    });
  }
  if (out.length === 0 && errors && errors.length) {
    out.push({
      ...(opts.file ? { file: opts.file } : {}),
      path: pointerToPath(errors[0]!.instancePath, opts.pathPrefix ?? ''),
      message: errors[0]!.message ?? 'is invalid',
      fix: 'see docs/config.md',
    });
  }
  return out;
}
