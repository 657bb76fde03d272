/** Lease writes and numbered clients for the lease-file store's tests (plugins/lease-file/*.test.ts). */
import type { LeaseWrite } from 'pxekit/kit';

export const SUBNET = '10.0.0.0/16';
/** A lease write for `mac` on `ip` in SUBNET. */
export const w = (mac: string, ip: string, expiresAt: number): LeaseWrite => ({ mac, ip, expiresAt, subnet: SUBNET });
/** Client number `i`'s address and MAC (distinct for i < 65,536). */
export const ipOf = (i: number) => `10.0.${(i >> 8) & 255}.${i & 255}`;
export const macOf = (i: number) =>
  `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
