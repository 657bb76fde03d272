import { stat, readFile } from 'node:fs/promises';
import Handlebars from 'handlebars';
import type { Logger } from 'pino';
import { PxeError } from '../errors.js';

/** A template: inline text, or a file read (and re-read when it changes). `name` is what errors show. */
export type TemplateSource = { name: string; text: string } | { name: string; file: string };

type Compiled = (vars: unknown) => string;

/**
 * Renders per-host files with handlebars 4 in strict mode (`noEscape`: these are iPXE/GRUB/pxelinux
 * scripts, not HTML). Each template is parsed and compiled once and cached; a file template is
 * recompiled when its mtime or size changes. Every failure is a `PXE_ERR_TEMPLATE` PxeError whose
 * message names the template and the line, e.g. `template boot.ipxe.hbs line 3: "kernel" not defined`.
 */
export class TemplateRenderer {
  readonly #hb = Handlebars.create();
  readonly #byText = new Map<string, Compiled>();
  readonly #byFile = new Map<string, { sig: string; fn: Compiled }>();

  constructor() {
    this.#hb.registerHelper('join', (list: unknown, sep: unknown) =>
      Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ' ') : '',
    );
    this.#hb.registerHelper('default', (value: unknown, fallback: unknown) =>
      value === undefined || value === null || value === '' ? fallback : value,
    );
  }

  async render(src: TemplateSource, vars: Record<string, unknown>): Promise<string> {
    const fn = 'text' in src ? this.#compileText(src.name, src.text) : await this.#compileFile(src.name, src.file);
    return this.#run(src.name, fn, vars);
  }

  /** Compiles (and caches) without rendering: surfaces syntax errors at start-up. */
  async check(src: TemplateSource): Promise<void> {
    if ('text' in src) this.#compileText(src.name, src.text);
    else await this.#compileFile(src.name, src.file);
  }

  #compileText(name: string, text: string): Compiled {
    const key = `${name}\0${text}`;
    let fn = this.#byText.get(key);
    if (!fn) {
      fn = this.#compile(name, text);
      if (this.#byText.size > 500) this.#byText.clear();
      this.#byText.set(key, fn);
    }
    return fn;
  }

  async #compileFile(name: string, file: string): Promise<Compiled> {
    let sig: string;
    try {
      const st = await stat(file);
      sig = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (err) {
      throw templateError(name, undefined, `cannot read ${file}: ${(err as Error).message}`, err);
    }
    const hit = this.#byFile.get(file);
    if (hit?.sig === sig) return hit.fn;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw templateError(name, undefined, `cannot read ${file}: ${(err as Error).message}`, err);
    }
    const fn = this.#compile(name, text);
    this.#byFile.set(file, { sig, fn });
    return fn;
  }

  #compile(name: string, text: string): Compiled {
    try {
      // handlebars compiles lazily; parse now so a syntax error is reported at load, with its line.
      this.#hb.parse(text);
      return this.#hb.compile(text, { noEscape: true, strict: true });
    } catch (err) {
      throw fromHandlebars(name, err);
    }
  }

  #run(name: string, fn: Compiled, vars: Record<string, unknown>): string {
    try {
      return fn(vars);
    } catch (err) {
      throw fromHandlebars(name, err);
    }
  }
}

/** Handlebars puts the line in `lineNumber` (runtime) or in the text "Parse error on line N" (syntax). */
function fromHandlebars(name: string, err: unknown): PxeError {
  const e = err as { message?: string; lineNumber?: number };
  const msg = String(e.message ?? err);
  const line =
    typeof e.lineNumber === 'number'
      ? e.lineNumber
      : Number(/(?:Parse|Lexical) error on line (\d+)/.exec(msg)?.[1]) || undefined;
  const lines = msg
    .replace(/ - \d+:\d+$/, '')
    .replace(/ in \[object Object\]/, '')
    .split('\n');
  // Parse errors: "Parse error on line N:", a context snippet, a caret line, then "Expecting ..., got ...".
  const detail = /^(?:Parse|Lexical) error/.test(lines[0]!)
    ? `${lines[0]!.replace(/ on line \d+:?/, '')}: ${lines[lines.length - 1]!.trim()}`
    : lines.join(' ');
  return templateError(name, line, detail, err);
}

function templateError(name: string, line: number | undefined, detail: string, cause: unknown): PxeError {
  return new PxeError('PXE_ERR_TEMPLATE', `template ${name}${line ? ` line ${line}` : ''}: ${detail}`, {
    cause,
    fix: 'fix the template (handlebars syntax; every variable used must exist: see the templates plugin README for the list)',
    details: { template: name, ...(line ? { line } : {}) },
  });
}

/** Logs a template failure with its stable code, template and line (`template.error`, PXE_ERR_TEMPLATE). */
export function logTemplateError(log: Logger, err: unknown, fields: Record<string, unknown>): void {
  const details = err instanceof PxeError ? err.details : {};
  log.error(
    {
      event: 'template.error',
      code: err instanceof PxeError ? err.code : 'PXE_ERR_TEMPLATE',
      ...details,
      ...fields,
      err,
    },
    err instanceof Error ? err.message : String(err),
  );
}
