import { definePlugin, PxeError, STAGE_FIRST } from 'pxekit';
import { compileMacPatterns, type FileWatcher, type MacPattern, watchFile, fromBase } from 'pxekit/kit';
import { readListFile } from './list-file.js';

export interface MacAllowlistOptions {
  /** MACs, OUIs and patterns, in any common notation. */
  allow: string[];
  /** A file with one entry per line (`#` comments), reloaded when it changes. */
  file?: string;
  /** What happens to a MAC that matches nothing: refused everywhere, or admitted with a default boot. */
  unknown: 'deny' | { boot: string };
  /** Admit TFTP/HTTP requests from an IP no DHCP exchange has tied to a MAC. */
  allowUnknownIp: boolean;
  /** Stat poll interval for `file`, ms (fallback where fs.watch misses changes). */
  pollMs: number;
}

const NAME = 'mac-allowlist';

export default function macAllowlist(options: Partial<MacAllowlistOptions> = {}) {
  return definePlugin<MacAllowlistOptions>({
    name: NAME,
    options,
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allow: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description:
            'MACs (aa:bb:cc:dd:ee:ff, AA-BB-…, aabb.ccdd.eeff, aabbccddeeff), OUIs (52:54:00) and ' +
            'octet globs (52:54:00:*, *:ab:cd, 52:54:0?:*)',
        },
        file: {
          type: 'string',
          minLength: 1,
          description:
            'file with one entry per line, # comments; relative to the config file; reloaded when it changes',
        },
        unknown: {
          description:
            '"deny" (default): no DHCP offer, TFTP access violation, HTTP 403; or { boot: file-or-URL }: admit and boot that',
          default: 'deny',
          oneOf: [
            { const: 'deny' },
            {
              type: 'object',
              additionalProperties: false,
              required: ['boot'],
              properties: {
                boot: { type: 'string', minLength: 1, description: 'boot file (TFTP) or URL for MACs not in the list' },
              },
            },
          ],
        },
        allowUnknownIp: {
          type: 'boolean',
          default: false,
          description:
            'admit TFTP/HTTP clients whose IP has no DHCP session (so no known MAC); off: a denied MAC gets nothing from any protocol',
        },
        pollMs: { type: 'integer', minimum: 100, default: 2000, description: 'stat poll interval for file, ms' },
      },
    },
    apply(server, { options, log }) {
      const fromOptions = compileMacPatterns(options.allow);
      if (fromOptions.errors.length) {
        throw new PxeError('PXE_ERR_CONFIG_INVALID', `${NAME}: ${fromOptions.errors.map((e) => e.error).join('; ')}`, {
          fix: 'write MACs as aa:bb:cc:dd:ee:ff, OUIs as aa:bb:cc, patterns as aa:bb:cc:*',
        });
      }
      const file = fromBase(server.baseDir, options.file);
      let fromFile: MacPattern[] = [];
      let watcher: FileWatcher | undefined;

      const load = async () => {
        if (!file) return;
        try {
          const { patterns, bad } = await readListFile(file);
          for (const b of bad)
            log.warn(
              { event: 'allowlist.line.invalid', where: b.where, error: b.error },
              `allowlist ${b.where}: ${b.error}; line skipped`,
            );
          fromFile = patterns;
          log.info(
            { event: 'allowlist.loaded', file, entries: patterns.length, skipped: bad.length },
            'allowlist file loaded',
          );
        } catch (err) {
          // Keep the last good list: an editor's half-written save must not open or close the doors.
          log.error(
            { event: 'allowlist.load.error', file, err },
            'cannot read allowlist file; keeping the previous list',
          );
        }
      };
      const allowed = (mac: string): MacPattern | undefined =>
        fromOptions.patterns.find((p) => p.matches(mac)) ?? fromFile.find((p) => p.matches(mac));

      server.hooks.ready.tapPromise(NAME, async () => {
        await load();
        if (file) watcher = watchFile(file, load, { pollMs: options.pollMs, log });
      });
      server.hooks.close.tapPromise(NAME, async () => watcher?.close());

      server.hooks.admit.tap({ name: NAME, stage: STAGE_FIRST }, (req) => {
        const mac = req.mac ?? req.session?.mac;
        if (!mac) {
          if (options.allowUnknownIp) return undefined;
          return {
            deny: `no known MAC for ${req.ip ?? 'client'} (no DHCP session for this IP) and allowUnknownIp is off`,
          };
        }
        if (allowed(mac)) return undefined;
        if (options.unknown === 'deny') return { deny: `mac ${mac} not in allowlist` };
        return undefined;
      });

      const unknown = options.unknown;
      if (unknown !== 'deny') {
        server.dhcp.hooks.selectBoot.tap({ name: NAME, stage: STAGE_FIRST }, (ctx) => {
          if (allowed(ctx.client.mac)) return undefined;
          return {
            file: unknown.boot,
            reason: `mac ${ctx.client.mac} not in allowlist: default boot for unknown clients`,
          };
        });
      }
    },
  });
}
