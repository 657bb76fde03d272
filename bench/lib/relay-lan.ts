/**
 * The relayed DHCP set-up the DHCP benches share: the client stack is a relay for 10.78.0.0/16
 * (perfdhcp or the bench's own clients send from giaddr 10.78.0.2) and the server routes that subnet
 * back to it, so servers lease from a pool that is not on their own link, as behind a real relay.
 */
import type { Lan } from '../../test/helpers/realnet.js';
import { benchDir } from './bench-lan.js';
import { RELAY } from './perfdhcp.js';
import type { BaseContext } from './server.js';

/** Runs `cmd args` in `ns`; throws with its stderr when it fails. */
export async function mustRun(lan: Lan, ns: string, cmd: string, args: string[]): Promise<void> {
  const r = await lan.execIn(ns, cmd, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Adds the relay address and the return route; `pool` defaults to the whole /16 (less .0.1–.0.9). */
export async function relayedDhcp(
  lan: Lan,
  pool: { first: string; last: string } = { first: '10.78.0.10', last: '10.78.255.250' },
): Promise<BaseContext> {
  await mustRun(lan, lan.cliNs, 'ip', ['addr', 'add', RELAY.cidr, 'dev', 'eth0']);
  await mustRun(lan, lan.srvNs, 'ip', ['route', 'add', RELAY.subnet, 'via', '10.77.0.2']);
  return {
    lan,
    service: 'dhcp',
    root: benchDir('dhcp-root'),
    pool: { subnet: RELAY.subnet, netmask: '255.255.0.0', prefix: 16, ...pool, router: RELAY.addr },
  };
}
