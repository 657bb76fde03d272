import { resolve } from 'node:path';
import { type BootSession, type CheckProblem, definePlugin, PxeError, STAGE_DEFAULT, STAGE_EARLY } from 'pxekit';
import {
  compilePathPattern,
  fromBase,
  logTemplateError,
  memoryFile,
  type PathPattern,
  requestLocal,
  sessionForPath,
  TemplateRenderer,
  type TemplateSource,
  templateVars,
} from 'pxekit/kit';

export type TemplateEntry = string | { template?: string; inline?: string; contentType?: string };

export interface TemplatesOptions {
  /** Folder holding the template files (relative to the config file). */
  dir?: string;
  /** Served path (may contain {{mac}}, {{mac_dashes}}, {{mac_hex}}, {{ip}}) → template file, or `{ inline }`. */
  files: Record<string, TemplateEntry>;
}

interface Mapped {
  pattern: PathPattern;
  source: TemplateSource;
  contentType: string;
}

const NAME = 'templates';

export default function templates(options: Partial<TemplatesOptions> = {}) {
  return definePlugin<TemplatesOptions>({
    name: NAME,
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['files'],
      properties: {
        dir: {
          type: 'string',
          minLength: 1,
          description: 'folder with the template files; relative to the config file',
        },
        files: {
          type: 'object',
          description:
            'served path → template. The path may hold {{mac}}, {{mac_dashes}}, {{mac_hex}} or ' +
            '{{ip}}: e.g. "/pxelinux.cfg/01-{{mac_dashes}}": "pxelinux.hbs"',
          additionalProperties: {
            oneOf: [
              { type: 'string', minLength: 1, description: 'template file in dir' },
              {
                type: 'object',
                additionalProperties: false,
                properties: {
                  template: { type: 'string', minLength: 1, description: 'template file in dir' },
                  inline: { type: 'string', description: 'template text' },
                  contentType: { type: 'string', description: 'HTTP Content-Type (default text/plain; charset=utf-8)' },
                },
                oneOf: [{ required: ['template'] }, { required: ['inline'] }],
              },
            ],
          },
        },
      },
    },
    // validate: every template file exists and compiles (start fails otherwise), every path pattern parses.
    async check({ options, baseDir }) {
      const problems: CheckProblem[] = [];
      const renderer = new TemplateRenderer();
      for (const [path, entry] of Object.entries(options.files)) {
        const key = `files[${JSON.stringify(path)}]`;
        let m: Mapped;
        try {
          m = mapEntry(baseDir, options, path, entry);
        } catch (err) {
          problems.push({
            severity: 'error',
            key,
            message: (err as Error).message,
            fix: err instanceof PxeError && err.fix ? err.fix : 'see plugins/templates/README.md',
          });
          continue;
        }
        await renderer.check(m.source).catch((err: unknown) =>
          problems.push({
            severity: 'error',
            key,
            message: err instanceof Error ? err.message : String(err),
            ...('file' in m.source ? { found: m.source.file } : {}),
            fix:
              err instanceof PxeError && err.fix
                ? err.fix
                : 'fix the template (Handlebars syntax), or the file name and "dir" (relative to the config file)',
          }),
        );
      }
      return problems;
    },
    apply(server, { options, log }) {
      const renderer = new TemplateRenderer();
      const mapped = Object.entries(options.files).map(([path, entry]) =>
        mapEntry(server.baseDir, options, path, entry),
      );

      server.hooks.ready.tapPromise(NAME, async () => {
        // Fail the start on a template that does not compile: better than a 500 on the first boot.
        for (const m of mapped)
          await renderer.check(m.source).catch((err: unknown) => {
            logTemplateError(log, err, { path: m.pattern.source });
            throw err;
          });
      });

      const render = async (
        m: Mapped,
        session: BootSession,
        request: { path: string; protocol: string; query?: URLSearchParams },
        local?: { address?: string },
      ) => {
        const vars = templateVars(server, session, local, {
          request: { path: request.path, protocol: request.protocol, query: Object.fromEntries(request.query ?? []) },
        });
        try {
          return await renderer.render(m.source, vars);
        } catch (err) {
          logTemplateError(log, err, { path: request.path, mac: session.mac });
          throw err;
        }
      };
      const find = (path: string) => {
        for (const m of mapped) {
          const hit = m.pattern.match(path);
          if (hit) return { m, hit };
        }
        return undefined;
      };

      // HTTP: served as a script, so a render error answers 500 (the tap throws; the HTTP service logs it).
      // `paths`: only templated paths call the tap; kernels and initrds keep the lean HTTP path.
      const paths = (path: string) => find(path) !== undefined;
      server.http.hooks.script.tapPromise({ name: NAME, stage: STAGE_DEFAULT, paths }, async (prev, ctx) => {
        if (prev) return prev;
        const found = find(ctx.path);
        if (!found) return prev;
        const session = sessionForPath(server, found.hit, { session: ctx.session, clientAddress: ctx.client.address });
        if (!session) {
          ctx.log.debug(
            { event: 'template.session.missing', path: ctx.path },
            'templated path but no session for this client',
          );
          return prev;
        }
        const body = await render(
          found.m,
          session,
          { path: ctx.path, protocol: 'http', query: ctx.query },
          requestLocal(ctx.req),
        );
        return { body, contentType: found.m.contentType };
      });

      // TFTP (and `explain`): a generated file with its size known up front (tsize).
      server.files.hooks.resolve.tapPromise({ name: NAME, stage: STAGE_EARLY }, async (req) => {
        if (req.protocol === 'http') return undefined;
        const found = find(req.path);
        if (!found) return undefined;
        const session = sessionForPath(server, found.hit, req);
        if (!session) return undefined;
        return memoryFile(req.path, await render(found.m, session, { path: req.path, protocol: req.protocol }), NAME);
      });
    },
  });
}

/** One `files` entry: its path pattern and template source (throws on a pattern that does not parse). */
function mapEntry(base: string, options: TemplatesOptions, path: string, entry: TemplateEntry): Mapped {
  const dir = fromBase(base, options.dir) ?? base;
  const pattern = compilePathPattern(path);
  if ('error' in pattern)
    throw new PxeError('PXE_ERR_CONFIG_INVALID', `templates: ${pattern.error}`, {
      fix: 'see plugins/templates/README.md for path variables',
    });
  const e = typeof entry === 'string' ? { template: entry } : entry;
  const source: TemplateSource =
    e.inline !== undefined
      ? { name: `inline:${path}`, text: e.inline }
      : { name: e.template!, file: resolve(dir, e.template!) };
  return { pattern, source, contentType: e.contentType ?? 'text/plain; charset=utf-8' };
}
