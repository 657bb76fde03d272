/**
 * The DHCPv6 server's message logic (RFC 8415 §18.3): validate, bind IA_NA addresses, answer.
 * It knows nothing of sockets, config or plugins: the service hands in a `Responder6Host` (the
 * server DUID, the bindings, the boot options it decided) and sends what comes back.
 */
import { ENTERPRISE_INTEL, MessageType as M, StatusCode as S, INFINITY } from './constants.js';
import { type Bindings6, type IaClient } from './leases6.js';
import { findOption, findOptions } from './options.js';
import type { Pool6 } from './pool6.js';
import type { Dhcp6Message, Dhcp6Option, OptionOf } from './types.js';

export interface Responder6Host {
  serverDuid: Buffer;
  /** `full`: addresses and boot options. `boot-only`: beside another DHCPv6 server, boot options only. */
  mode: 'full' | 'boot-only';
  rapidCommit: boolean;
  /** Full mode: the address bindings. */
  bindings: Bindings6 | undefined;
  /** The pool for this request (by relay link address or the receiving link); undefined = none here. */
  pool: Pool6 | undefined;
  /** Options every reply carries when asked (DNS servers, domain list). */
  infoOptions: readonly Dhcp6Option[];
  /** Boot options for this client (59, 60, echoed 16); [] = no boot decision. Called at most once. */
  bootOptions(): Promise<Dhcp6Option[]>;
  now(): number;
}

export type Response6 =
  | { reply: Dhcp6Message; event: string; addresses: string[] }
  | { done: string; event: string; addresses: string[] }
  | { ignore: string };

/** Answers one client message (already unwrapped from any relays). */
export async function respond(
  msg: Dhcp6Message,
  client: { mac: string | undefined },
  host: Responder6Host,
): Promise<Response6> {
  const cid = findOption(msg.options, 'client-id');
  const sid = findOption(msg.options, 'server-id');
  const ours = sid !== undefined && sid.duid.equals(host.serverDuid);
  const t = msg.msgType;
  if (t === M.INFORMATION_REQUEST) {
    if (sid && !ours) return { ignore: 'Information-request for another server' };
    return { reply: reply(msg, host, await replyOptions(msg, host)), event: 'dhcp6.reply', addresses: [] };
  }
  if (!cid) return { ignore: `${t} without a client identifier` };
  const needsSid = t === M.REQUEST || t === M.RENEW || t === M.RELEASE || t === M.DECLINE;
  if (needsSid && !ours) return { ignore: sid ? 'addressed to another server' : 'no server identifier' };
  if (!needsSid && sid) return { ignore: 'server identifier where none is allowed' };
  const iaClient = (iaid: number): IaClient => ({ duid: cid.duid, iaid, mac: client.mac });
  const ias = findOptions(msg.options, 'ia-na');

  if (host.mode === 'boot-only' || !host.bindings) {
    if (t !== M.SOLICIT && t !== M.REQUEST)
      return { ignore: 'boot-only mode answers Solicit/Request/Information-request' };
    const boot = await host.bootOptions();
    if (boot.length === 0) return { ignore: 'boot-only mode and no boot decision for this client' };
    const options = [...(await replyOptions(msg, host)), ...proxyEcho(msg, boot)];
    if (t === M.SOLICIT) {
      // A proxy Advertise: no IA_NA at all. EDK2 drops an Advertise whose IA_NA carries a non-Success status
      // (Dhcp6SeekStsOption) and files one without IA_NA, with 59 and vendor class PXEClient/HTTPClient, as a
      // proxy offer to combine with another server's address; RFC 8415 clients ignore it (no addresses).
      return { reply: reply(msg, host, options, M.ADVERTISE), event: 'dhcp6.advertise', addresses: [] };
    }
    // A Request to us: EDK2's boot-server Request on port 4011 (no IA_NA), or a client that chose our Advertise.
    const noAddr = ias.map((ia) => iaStatus(ia, S.NoAddrsAvail, 'addresses come from the site DHCPv6 server'));
    return { reply: reply(msg, host, [...noAddr, ...options]), event: 'dhcp6.reply', addresses: [] };
  }
  const bindings = host.bindings;
  const now = host.now();
  const pool = host.pool;

  switch (t) {
    case M.SOLICIT:
    case M.REQUEST: {
      const commit = t === M.REQUEST || (host.rapidCommit && findOption(msg.options, 'rapid-commit') !== undefined);
      const out: Dhcp6Option[] = [];
      const addresses: string[] = [];
      for (const ia of ias) {
        const hints = findOptions(ia.options, 'iaaddr').map((a) => a.address);
        const got = pool && (await bindings.allocate(pool, iaClient(ia.iaid), hints, commit, now));
        if (got && pool) {
          addresses.push(got.ip);
          out.push(iaWith(ia, got.ip, pool));
        } else out.push(iaStatus(ia, S.NoAddrsAvail, pool ? 'no address free in the pool' : 'no pool for this link'));
      }
      if (t === M.SOLICIT && commit) out.push({ kind: 'rapid-commit' });
      if (t === M.SOLICIT && !commit) out.push({ kind: 'preference', value: 255 });
      const type = t === M.SOLICIT && !commit ? M.ADVERTISE : M.REPLY;
      const event = type === M.ADVERTISE ? 'dhcp6.advertise' : 'dhcp6.reply';
      return { reply: reply(msg, host, [...out, ...(await replyOptions(msg, host))], type), event, addresses };
    }
    case M.RENEW:
    case M.REBIND: {
      const out: Dhcp6Option[] = [];
      const addresses: string[] = [];
      for (const ia of ias) {
        const addrs: Dhcp6Option[] = [];
        for (const a of findOptions(ia.options, 'iaaddr')) {
          const p = bindings.poolOf(a.address);
          const got = p && (await bindings.extend(p, iaClient(ia.iaid), a.address, now));
          if (got && p) {
            addresses.push(a.address);
            addrs.push(iaaddr(a.address, p));
          } else if (t === M.REBIND) {
            // RFC 8415 §18.3.5: an address not valid here gets lifetimes 0.
            addrs.push({ kind: 'iaaddr', address: a.address, preferredLifetime: 0, validLifetime: 0, options: [] });
          }
        }
        if (addrs.length === 0 && t === M.RENEW) out.push(iaStatus(ia, S.NoBinding, 'no binding for this IA'));
        else if (addrs.length === 0) return { ignore: 'Rebind for addresses this server does not know' };
        else
          out.push({
            kind: 'ia-na',
            iaid: ia.iaid,
            ...timers(pool ?? bindings.poolOf(addresses[0] ?? '')),
            options: addrs,
          });
      }
      return { reply: reply(msg, host, [...out, ...(await replyOptions(msg, host))]), event: 'dhcp6.reply', addresses };
    }
    case M.RELEASE:
    case M.DECLINE: {
      const addresses: string[] = [];
      for (const ia of ias) {
        for (const a of findOptions(ia.options, 'iaaddr')) {
          const p = bindings.poolOf(a.address);
          if (t === M.RELEASE && (await bindings.release(iaClient(ia.iaid), a.address, now))) addresses.push(a.address);
          if (t === M.DECLINE && p) {
            await bindings.decline(p, a.address, now);
            addresses.push(a.address);
          }
        }
      }
      const what = t === M.RELEASE ? 'released' : 'declined';
      const r = reply(msg, host, [{ kind: 'status-code', status: S.Success, message: `${addresses.length} ${what}` }]);
      return { reply: r, event: t === M.RELEASE ? 'dhcp6.release' : 'dhcp6.decline', addresses };
    }
    case M.CONFIRM: {
      const addrs = ias.flatMap((ia) => findOptions(ia.options, 'iaaddr').map((a) => a.address));
      if (addrs.length === 0) return { ignore: 'Confirm without addresses' };
      const onLink = addrs.every((a) => bindings.poolOf(a) !== undefined);
      const status = onLink
        ? { kind: 'status-code' as const, status: S.Success, message: 'all addresses still on link' }
        : { kind: 'status-code' as const, status: S.NotOnLink, message: 'an address is not on this link' };
      return { reply: reply(msg, host, [status]), event: 'dhcp6.reply', addresses: [] };
    }
    default:
      return { ignore: `message type ${t} is not served` };
  }
}

function reply(
  msg: Dhcp6Message,
  host: Responder6Host,
  options: Dhcp6Option[],
  msgType: number = M.REPLY,
): Dhcp6Message {
  const cid = findOption(msg.options, 'client-id');
  return {
    kind: 'message',
    msgType,
    transactionId: msg.transactionId,
    options: [{ kind: 'server-id', duid: host.serverDuid }, ...(cid ? [cid] : []), ...options],
  };
}

/** DNS and domain list when asked in ORO, then the boot options when the client asked for 59 or sent 61. */
async function replyOptions(msg: Dhcp6Message, host: Responder6Host): Promise<Dhcp6Option[]> {
  const oro = findOption(msg.options, 'oro')?.codes ?? [];
  const info = host.infoOptions.filter(
    (o) => (o.kind === 'dns-servers' && oro.includes(23)) || (o.kind === 'domain-list' && oro.includes(24)),
  );
  const wantsBoot = oro.includes(59) || findOption(msg.options, 'client-arch-type') !== undefined;
  return wantsBoot ? [...info, ...(await host.bootOptions())] : info;
}

/**
 * Boot-only answers echo the client's class like an IPv4 proxyDHCP offer (option 60 `PXEClient`): EDK2's PXE
 * client takes an answer without an address as a boot-server offer only with vendor class 16 = enterprise 343
 * + `PXEClient` (PxeBcParseDhcp6Packet). `HTTPClient` is already in the boot options for HTTP boot.
 */
function proxyEcho(msg: Dhcp6Message, boot: readonly Dhcp6Option[]): Dhcp6Option[] {
  if (boot.some((o) => o.kind === 'vendor-class')) return [];
  const asked = findOptions(msg.options, 'vendor-class').some((v) =>
    v.data.some((d) => d.subarray(0, 9).toString('latin1') === 'PXEClient'),
  );
  return asked ? [{ kind: 'vendor-class', enterprise: ENTERPRISE_INTEL, data: [Buffer.from('PXEClient')] }] : [];
}

function timers(pool: Pool6 | undefined): { t1: number; t2: number } {
  if (!pool || pool.preferredLifetime === INFINITY) return { t1: 0, t2: 0 };
  return { t1: Math.floor(pool.preferredLifetime * 0.5), t2: Math.floor(pool.preferredLifetime * 0.8) };
}

function iaaddr(address: string, pool: Pool6): Dhcp6Option {
  return {
    kind: 'iaaddr',
    address,
    preferredLifetime: pool.preferredLifetime,
    validLifetime: pool.validLifetime,
    options: [],
  };
}

function iaWith(ia: OptionOf<'ia-na'>, address: string, pool: Pool6): Dhcp6Option {
  return { kind: 'ia-na', iaid: ia.iaid, ...timers(pool), options: [iaaddr(address, pool)] };
}

function iaStatus(ia: OptionOf<'ia-na'>, status: number, message: string): Dhcp6Option {
  return { kind: 'ia-na', iaid: ia.iaid, t1: 0, t2: 0, options: [{ kind: 'status-code', status, message }] };
}
