/** The links a DHCPv6 server can serve: interfaces with IPv6, with their MAC and global addresses. */
import { networkInterfaces } from 'node:os';

export interface Link {
  name: string;
  /** Undefined for interfaces without a hardware address (tunnels). */
  mac: string | undefined;
  /** Global (not link-local) IPv6 addresses, for choosing the pool on the link. */
  global: string[];
}

/** Interfaces with IPv6, their MAC and global (non-link-local) addresses; `only` filters by name. */
export function ipv6Links(only: readonly string[] | undefined): Link[] {
  const out: Link[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (only && only.length > 0 && !only.includes(name)) continue;
    const v6 = (list ?? []).filter((a) => a.family === 'IPv6' && !a.internal);
    if (v6.length === 0) continue;
    const mac = v6[0]!.mac !== '00:00:00:00:00:00' ? v6[0]!.mac : undefined;
    out.push({ name, mac, global: v6.filter((a) => !a.address.startsWith('fe80:')).map((a) => a.address) });
  }
  return out;
}
