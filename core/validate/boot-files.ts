/**
 * validate's boot-file stage: for every client architecture (option 93), a raw PXE ROM and an iPXE client
 * are run through the configured plugins as `pxekit explain` does (no sockets); when a plugin hands out a
 * file or a URL of this server that no source has, that is a warning naming the arch, the file and the
 * fix. Works for any boot plugin, built-in or third-party: it asks the plugins, it does not read their options.
 */
import { ARCH_KEYS, type ArchKey } from '../boot/arch-keys.js';
import { syntheticDiscoverBuffer } from '../explain/discover.js';
import type { ExplainServer } from '../explain/build-server.js';
import { explainPacket } from '../explain/engine.js';
import type { PluginDefinition, PluginOrigin } from '../plugin.js';
import type { ValidateIssue } from './types.js';

/** One option 93 value per arch name, plus 9 (x64 UEFI firmware sends 7 or 9). */
const ARCHS: Array<{ key: ArchKey; arch: number }> = [
  ...(Object.entries(ARCH_KEYS) as Array<[ArchKey, readonly number[]]>).map(([key, n]) => ({ key, arch: n[0]! })),
  { key: 'uefi64', arch: 9 },
];

interface Miss {
  file: string;
  plugin: string;
  clients: string[];
}

/** Every boot file handed out that no source has, as warnings (one per file and plugin, naming the archs). */
export async function checkBootFiles(
  x: ExplainServer,
  plugins: PluginDefinition[],
  origins: PluginOrigin[],
): Promise<ValidateIssue[]> {
  const misses = new Map<string, Miss>();
  let n = 0;
  for (const { key, arch } of ARCHS) {
    for (const ipxe of [false, true]) {
      // A MAC of its own per run, so no session of an earlier run is reused.
      const mac = `02:00:5e:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n++ & 0xff).toString(16).padStart(2, '0')}`;
      const r = await explainPacket(x, {
        packet: syntheticDiscoverBuffer({ mac, arch, ipxe }),
        port: 'dhcp',
        origin: `validate: ${key} (${arch})${ipxe ? ' iPXE' : ''}`,
      });
      const first = r.fetches[0];
      if (!r.bootFile || !first || first.result !== 'not found') continue;
      const plugin = r.boot?.plugin ?? 'unknown';
      // The same file by TFTP and as a URL of this server (HTTP boot) is one problem.
      const file = /^[a-z]+:\/\//i.test(r.bootFile) ? new URL(r.bootFile).pathname.replace(/^\/+/, '') : r.bootFile;
      const client = `${key} (option 93 = ${arch}${ipxe ? ', iPXE' : ''})`;
      const id = `${plugin}\n${file}`;
      const m = misses.get(id) ?? { file, plugin, clients: [] };
      // An iPXE client missing the same file as the raw ROM of its arch adds nothing to say.
      if (!ipxe || !m.clients.includes(`${key} (option 93 = ${arch})`)) m.clients.push(client);
      misses.set(id, m);
    }
  }
  const sources = x.server.files.hooks.resolve.taps
    .map((t) => t.name)
    .filter((s, i, all) => all.indexOf(s) === i && s !== 'templates');
  return [...misses.values()].map((m) => {
    const i = plugins.findIndex((p) => p.name === m.plugin);
    const o = origins[i];
    const archs = [...new Set(m.clients.map((c) => c.slice(0, c.indexOf(' '))))];
    return {
      ...(o?.file ? { file: o.file } : { file: x.configFile }),
      severity: 'warning' as const,
      stage: 'boot-files' as const,
      path: `plugins[${o?.index ?? '?'}] (${m.plugin})`,
      message: `hands out ${m.file} to ${m.clients.join(', ')} clients, and no source has it`,
      found: sources.length ? `not in ${sources.join(', ')}` : 'no file source configured',
      expected: `${m.file} in one of the sources`,
      fix:
        `put ${m.file} where a source serves it (e.g. the root folder of source-disk), or change what ` +
        `${m.plugin} hands out for ${archs.join(', ')} in its options; if no such client boots here, ignore this warning`,
    };
  });
}
