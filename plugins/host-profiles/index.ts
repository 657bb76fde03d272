import { resolve } from 'node:path';
import { type BootSession, definePlugin, PxeError, STAGE_DEFAULT, STAGE_EARLY } from 'pxekit';
import {
  compilePathPattern,
  fromBase,
  logTemplateError,
  memoryFile,
  type PathPattern,
  requestLocal,
  sessionForPath,
  sessionForRequest,
  TemplateRenderer,
  type TemplateSource,
  templateVars,
} from 'pxekit/kit';
import { DEFAULT_GRUB, DEFAULT_IPXE, DEFAULT_PXELINUX } from './defaults.js';
import { selectGroup, selectorProblems, type Group } from './select.js';
import { hostProfilesSchema } from './schema.js';

export interface Profile {
  kernel?: string;
  initrd: string[];
  cmdline: string;
  /** iPXE script template text; `scriptFile` names a file instead. */
  script?: string;
  scriptFile?: string;
  grub?: string;
  grubFile?: string;
  pxelinux?: string;
  pxelinuxFile?: string;
  /** Free values for templates (`profile.vars`). */
  vars: Record<string, unknown>;
}

export interface HostProfilesOptions {
  groups: Group[];
  profiles: Record<string, Profile>;
  /** HTTP path of the per-host iPXE script. */
  scriptPath: string;
  /** Folder GRUB loads its config from (its `$prefix`). */
  grubPrefix: string;
  pxelinuxPrefix: string;
  /** Folder for `*File` templates, relative to the config file. */
  dir?: string;
}

type Kind = 'script' | 'grub' | 'pxelinux';
const DEFAULTS: Record<Kind, string> = { script: DEFAULT_IPXE, grub: DEFAULT_GRUB, pxelinux: DEFAULT_PXELINUX };
const NAME = 'host-profiles';

export default function hostProfiles(options: Partial<HostProfilesOptions> = {}) {
  return definePlugin<HostProfilesOptions>({
    name: NAME,
    options,
    optionsSchema: hostProfilesSchema,
    apply(server, { options, log }) {
      const problems = options.groups.flatMap((g) => [
        ...selectorProblems(g),
        ...(options.profiles[g.profile]
          ? []
          : [`group "${g.name}" uses profile "${g.profile}", which is not in profiles`]),
      ]);
      if (problems.length)
        throw new PxeError('PXE_ERR_CONFIG_INVALID', `${NAME}: ${problems.join('; ')}`, {
          fix: 'name an existing profile in every group; write MACs as aa:bb:cc:dd:ee:ff or patterns as aa:bb:cc:*',
        });
      const base = server.baseDir;
      const dir = fromBase(base, options.dir) ?? base;
      const renderer = new TemplateRenderer();

      const match = (s: BootSession) => {
        const group = selectGroup(options.groups, s);
        return group ? { group, profile: options.profiles[group.profile]! } : undefined;
      };
      const sourceFor = (name: string, p: Profile, kind: Kind): TemplateSource | undefined => {
        const text = p[kind];
        const file = p[`${kind}File`];
        if (text !== undefined) return { name: `profile ${name} ${kind}`, text };
        if (file !== undefined) return { name: file, file: resolve(dir, file) };
        return p.kernel ? { name: `host-profiles default ${kind}`, text: DEFAULTS[kind] } : undefined;
      };
      const profileVars = (group: Group, p: Profile) => ({
        name: group.profile,
        group: group.name,
        kernel: p.kernel ?? null,
        initrd: p.initrd,
        cmdline: p.cmdline,
        vars: p.vars,
      });

      // Templates (ours and the templates plugin's) see the matched profile as `profile`.
      server.hooks.templateVars.tap(NAME, (vars, s) => {
        const m = match(s);
        return m ? { ...vars, profile: profileVars(m.group, m.profile) } : vars;
      });

      const render = async (
        kind: Kind,
        session: BootSession,
        path: string,
        local?: { address?: string },
      ): Promise<string | undefined> => {
        const m = match(session);
        if (!m) return undefined;
        const src = sourceFor(m.group.profile, m.profile, kind);
        if (!src) return undefined;
        log.debug(
          { event: 'host-profiles.match', mac: session.mac, group: m.group.name, profile: m.group.profile, kind, path },
          'host profile selected',
        );
        try {
          return await renderer.render(
            src,
            templateVars(server, session, local, { profile: profileVars(m.group, m.profile), request: { path } }),
          );
        } catch (err) {
          logTemplateError(log, err, { path, mac: session.mac, profile: m.group.profile });
          throw err;
        }
      };

      server.hooks.ready.tapPromise(NAME, async () => {
        for (const [name, p] of Object.entries(options.profiles)) {
          for (const kind of ['script', 'grub', 'pxelinux'] as const) {
            const src = sourceFor(name, p, kind);
            if (src) await renderer.check(src);
          }
        }
      });

      // `paths`: only the script path calls the tap; kernels and initrds keep the lean HTTP path.
      const paths = (path: string) => path === options.scriptPath;
      server.http.hooks.script.tapPromise({ name: NAME, stage: STAGE_DEFAULT, paths }, async (prev, ctx) => {
        if (prev || ctx.path !== options.scriptPath) return prev;
        const session = sessionForRequest(server, {
          ...(ctx.session ? { session: ctx.session } : {}),
          clientAddress: ctx.client.address,
        });
        if (!session) return prev;
        const body = await render('script', session, ctx.path, requestLocal(ctx.req));
        return body === undefined ? prev : { body, contentType: 'text/plain; charset=utf-8' };
      });

      // Config files for clients that never run iPXE (GRUB, pxelinux), and the script over TFTP. The GRUB names
      // are GRUB's own search order for a network prefix (per client UUID, per MAC, per IP in hex shortened digit by
      // digit, then plain grub.cfg); builds without that search (Debian 12's 2.06) ask only grub.cfg: found by client IP.
      const grub = options.grubPrefix.replace(/\/+$/, '');
      const pxelinux = options.pxelinuxPrefix.replace(/\/+$/, '');
      const routes: Array<{ kind: Kind; pattern: PathPattern; http: boolean }> = [
        { kind: 'script', pattern: compiled(options.scriptPath), http: false },
        ...[
          `${grub}/grub.cfg-{{uuid}}`,
          `${grub}/grub.cfg-01-{{mac_dashes}}`,
          `${grub}/grub.cfg-{{mac}}`,
          `${grub}/grub.cfg-{{mac_dashes}}`,
          `${grub}/grub.cfg-{{ip_hex}}`,
          `${grub}/grub.cfg`,
        ].map((p) => ({ kind: 'grub' as const, pattern: compiled(p), http: true })),
        { kind: 'pxelinux', pattern: compiled(`${pxelinux}/01-{{mac_dashes}}`), http: true },
        { kind: 'pxelinux', pattern: compiled(`${pxelinux}/default`), http: true },
      ];
      server.files.hooks.resolve.tapPromise({ name: NAME, stage: STAGE_EARLY }, async (req) => {
        for (const r of routes) {
          if (req.protocol === 'http' && !r.http) continue;
          const hit = r.pattern.match(req.path);
          if (!hit) continue;
          const session = sessionForPath(server, hit, req);
          if (!session) return undefined;
          const body = await render(r.kind, session, req.path);
          return body === undefined ? undefined : memoryFile(req.path, body, NAME);
        }
        return undefined;
      });
    },
  });
}

function compiled(path: string): PathPattern {
  const p = compilePathPattern(path);
  if ('error' in p) throw new PxeError('PXE_ERR_CONFIG_INVALID', `${NAME}: ${p.error}`);
  return p;
}
