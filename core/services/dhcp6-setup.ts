/** What the DHCPv6 service works out once from its config: pools, bindings, server DUID, links, URL address. */
import { randomUUID } from 'node:crypto';
import { PxeError } from '../errors.js';
import type { Dhcp6Config } from '../dhcp6/config.js';
import { parseDuidHex } from '../dhcp6/duid.js';
import { Bindings6, type LeaseStore6 } from '../dhcp6/leases6.js';
import { ipv6Links, type Link } from '../dhcp6/links.js';
import { buildPools6, type Pool6 } from '../dhcp6/pool6.js';

export interface Setup6 {
  pools: Pool6[];
  bindings: Bindings6 | undefined;
  duid: Buffer;
  links: Link[];
  /** The address in boot URLs (and of the boot-server socket). */
  address: string;
}

/** Builds the setup; config mistakes that the schema cannot see become PXE_ERR_CONFIG_INVALID. */
export function prepareDhcp6(
  cfg: Dhcp6Config,
  interfaces: readonly string[] | undefined,
  store: () => LeaseStore6,
): Setup6 {
  let pools: Pool6[];
  try {
    pools = buildPools6(
      cfg.pools.map((p) => ({
        ...p,
        reservations: p.reservations.map((r) => ({
          address: r.address,
          ...(r.duid ? { duid: parseDuidHex(r.duid)! } : {}),
          ...(r.mac ? { mac: r.mac.toLowerCase().replace(/-/g, ':') } : {}),
          ...(r.hostname ? { hostname: r.hostname } : {}),
        })),
      })),
    );
  } catch (err) {
    throw new PxeError('PXE_ERR_CONFIG_INVALID', (err as Error).message, { fix: 'fix dhcp6.pools in the config' });
  }
  if (cfg.mode === 'full' && pools.length === 0)
    throw new PxeError('PXE_ERR_CONFIG_INVALID', 'dhcp6.mode is full but dhcp6.pools is empty', {
      fix: 'add a pool (prefix and range) or set dhcp6.mode to boot-only',
    });
  const links = ipv6Links(cfg.interfaces ?? interfaces);
  const address = cfg.serverAddress ?? links.flatMap((l) => l.global)[0];
  if (!address)
    throw new PxeError(
      'PXE_ERR_CONFIG_INVALID',
      'DHCPv6 has no address for boot URLs: no served interface has a global IPv6 address',
      { fix: 'set dhcp6.serverAddress, or give the interface a global or ULA address' },
    );
  const configured = cfg.serverDuid ? parseDuidHex(cfg.serverDuid) : undefined;
  const mac = links.find((l) => l.mac)?.mac;
  const duid =
    configured ??
    (mac
      ? Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.from(mac.replace(/:/g, ''), 'hex')])
      : Buffer.concat([Buffer.from([0, 4]), Buffer.from(randomUUID().replace(/-/g, ''), 'hex')]));
  const bindings = cfg.mode === 'full' ? new Bindings6(store(), pools) : undefined;
  return { pools, bindings, duid, links, address };
}
