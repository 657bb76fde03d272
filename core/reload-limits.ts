/**
 * What a config reload cannot change. A reload keeps the running listeners (so no packet meets a closed
 * socket) and the lease store (so no lease is lost): settings that decide those need a restart. A reload
 * that changes one of them is refused as a whole, so the server always runs exactly one version of the
 * config file, never a mix of two.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ConfigIssue } from './config/issues.js';

/** Config keys bound to a socket, to how the logger was built or to the DHCPv6 identity clients hold (`section.key`). */
export const RESTART_ONLY_KEYS = [
  'interfaces',
  'dhcp.mode',
  'dhcp.port',
  'dhcp.pxePort',
  'dhcp.address',
  'dhcp6.mode',
  'dhcp6.port',
  'dhcp6.pxePort',
  'dhcp6.interfaces',
  'dhcp6.serverAddress',
  'dhcp6.serverDuid',
  'tftp.enabled',
  'tftp.port',
  'tftp.address',
  'tftp.address6',
  'tftp.singlePort',
  'tftp.transport',
  'http.enabled',
  'http.port',
  'http.address',
  'http.address6',
  'log.level',
  'log.pretty',
] as const;

/** The parts of a config the check reads (structural: config/types.ts reaches the server, a type cycle). */
interface ConfigView {
  readonly dhcp: { readonly mode: string };
  readonly dhcp6: { readonly mode: string };
}

/** What the reload checks of the running server and of the one that would replace it. */
export interface ReloadSide {
  readonly config: ConfigView;
  /** The plugin that provides the lease store (`lease-file`), undefined for the core's memory store. */
  readonly leaseStoreProvider: string | undefined;
}

const RESTART_FIX = 'restart pxekit to apply it (systemctl restart pxekit), or put the running value back and reload';

/** Every change from `running` to `next` that a reload cannot apply; empty when the reload may go ahead. */
export function reloadIssues(running: ReloadSide, next: ReloadSide, file?: string): ConfigIssue[] {
  const where = file ? { file } : {};
  const issues: ConfigIssue[] = [];
  for (const path of RESTART_ONLY_KEYS) {
    const was = valueAt(running.config, path);
    const now = valueAt(next.config, path);
    if (isDeepStrictEqual(was, now)) continue;
    issues.push({
      ...where,
      path,
      message: 'changed, but a reload keeps the running listeners and logger',
      found: show(now),
      expected: `the running value ${show(was)}`,
      fix: RESTART_FIX,
    });
  }
  // Either family in full mode keeps bindings in the store (one store holds both).
  const fullMode = running.config.dhcp.mode === 'full' || running.config.dhcp6.mode === 'full';
  if (fullMode && running.leaseStoreProvider !== next.leaseStoreProvider) {
    issues.push({
      ...where,
      path: 'plugins',
      message: 'the lease store changes, and the leases of the running one would be dropped',
      found: storeName(next.leaseStoreProvider),
      expected: `the running store ${storeName(running.leaseStoreProvider)}`,
      fix: 'restart pxekit to switch lease stores, or keep the running lease-store plugin and reload',
    });
  }
  return issues;
}

function valueAt(config: ConfigView, path: string): unknown {
  let v: unknown = config;
  for (const key of path.split('.'))
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

function show(v: unknown): string {
  return v === undefined ? 'unset' : JSON.stringify(v);
}

function storeName(provider: string | undefined): string {
  return provider === undefined ? 'memory (no lease-store plugin)' : `from plugin "${provider}"`;
}
