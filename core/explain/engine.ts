import { networkInterfaces } from 'node:os';
import { decode } from '../dhcp/codec.js';
import { getOption } from '../dhcp/option-values.js';
import { DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, messageTypeName, type DhcpPacket } from '../dhcp/packet.js';
import { classify } from '../dhcp/pxe.js';
import type { AdmitResult } from '../hooks/server.js';
import type { BootSpec } from '../session/types.js';
import type { ExplainServer } from './build-server.js';
import { explainHttp, explainTftp, scriptFetches, type FetchView } from './fetch.js';
import { packetView } from './reply-view.js';
import type { DhcpStep, ExplainInput, ExplainReport } from './types.js';
import { verdictOf } from './verdict.js';

export type { DhcpStep, ExplainInput, ExplainReport, Verdict } from './types.js';

const DEFAULT_CLIENT_IP = '192.0.2.100';

/** This host's first non-loopback IPv4 address (127.0.0.1 when it has none). */
function firstHostAddress(): string {
  const all = Object.values(networkInterfaces()).flatMap((l) => l ?? []);
  return all.find((a) => a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
}

/**
 * Runs one DHCP packet through the configured plugins without sockets and records each decision:
 * classification, admit (and by whom), selectBoot (and by whom), the reply's options, then what a
 * TFTP/HTTP fetch of the boot file would get (and the files an iPXE script goes on to fetch).
 */
export async function explainPacket(x: ExplainServer, input: ExplainInput): Promise<ExplainReport> {
  const { server } = x;
  const packet = decode(input.packet);
  const client = classify(packet);
  const messageType = getOption(packet, 53);
  const notes: string[] = [];
  let admitResult: AdmitResult | undefined;
  let admitSeen = false;
  let bootResult: BootSpec | undefined;
  let bootAsked = false;
  server.hooks.admit.intercept({
    call: () => {
      admitSeen = true;
      admitResult = undefined;
    },
    result: (r) => {
      admitResult = r;
    },
  });
  server.dhcp.hooks.selectBoot.intercept({
    call: () => {
      bootAsked = true;
      bootResult = undefined;
    },
    result: (r) => {
      bootResult = r;
    },
  });

  const local = input.local ?? server.config.dhcp.serverAddress;
  // A client that already has an address says so in ciaddr (EDK2 on 4011): fetch from there.
  let clientIp = input.clientIp ?? (packet.ciaddr !== '0.0.0.0' ? packet.ciaddr : DEFAULT_CLIENT_IP);
  const dhcp: DhcpStep[] = [];
  let answeredFrom: string | undefined;
  const step = async (
    p: Buffer | DhcpPacket,
    port: 'dhcp' | 'bootserver',
    label: string,
  ): Promise<DhcpPacket | undefined> => {
    const from = x.events.length;
    const source = port === 'bootserver' ? { address: clientIp, port: 4011 } : { address: '0.0.0.0', port: 68 };
    const replies = await server.inject.dhcp(p, { port, source, ...(local ? { local: { address: local } } : {}) });
    const r = replies[0];
    const sid = r ? getOption(r.packet, 54) : undefined;
    if (typeof sid === 'string' && sid !== '0.0.0.0') answeredFrom ??= sid;
    dhcp.push({
      sent: label,
      port: port === 'bootserver' ? server.config.dhcp.pxePort : server.config.dhcp.port,
      ...(r ? { reply: { ...packetView(r.packet), to: `${r.to.address}:${r.to.port}` } } : {}),
      events: x.events.slice(from).map((e) => ({
        type: e.type,
        outcome: e.outcome,
        ...(e.plugin ? { plugin: e.plugin } : {}),
        ...(typeof e.data['reason'] === 'string' ? { reason: e.data['reason'] } : {}),
      })),
    });
    return r?.packet;
  };

  let reply = await step(input.packet, input.port, messageTypeName(messageType));
  const admitted = !admitSeen || admitResult === undefined || !('deny' in admitResult);
  const admit = admitted
    ? {
        allowed: true,
        ...(admitResult
          ? {
              plugin: server.runner.decidedBy(admitResult) ?? 'unknown',
              ...(admitResult && 'reason' in admitResult && admitResult.reason ? { reason: admitResult.reason } : {}),
            }
          : {}),
      }
    : {
        allowed: false,
        plugin: server.runner.decidedBy(admitResult) ?? 'unknown',
        reason: (admitResult as { deny: string }).deny,
      };
  if (!admitSeen) notes.push('admit was not asked (the packet was dropped before admission: see the DHCP events)');

  // ProxyDHCP "bootserver" path: the OFFER has no boot file; the client asks again on 4011.
  const fileOf = (p: DhcpPacket | undefined) =>
    p ? ((getOption(p, 67) as string | undefined) ?? (p.file || undefined)) : undefined;
  if (
    reply &&
    x.mode === 'proxy' &&
    input.port === 'dhcp' &&
    messageType === DHCPDISCOVER &&
    getOption(reply, 53) === DHCPOFFER &&
    !fileOf(reply) &&
    client.isPxeClient
  ) {
    const req = { ...packet, ciaddr: clientIp, options: new Map(packet.options) };
    req.options.set(53, Buffer.from([DHCPREQUEST]));
    notes.push(
      `the proxy OFFER carries no boot file (UEFI path): the client asks the boot server on port ` +
        `${server.config.dhcp.pxePort}; explain sends that REQUEST from ${clientIp}`,
    );
    reply = (await step(req, 'bootserver', `REQUEST (boot server, from ${clientIp})`)) ?? reply;
  }
  if (reply && x.mode === 'full' && reply.yiaddr !== '0.0.0.0' && input.clientIp === undefined) clientIp = reply.yiaddr;

  const spec = bootResult as BootSpec | undefined;
  const boot = spec
    ? {
        plugin: server.runner.decidedBy(spec) ?? spec.decidedBy ?? 'unknown',
        ...(spec.file ? { file: spec.file } : {}),
        ...(spec.noBoot ? { noBoot: true } : {}),
        ...(spec.reason ? { reason: spec.reason } : {}),
        ...(spec.nextServer ? { nextServer: spec.nextServer } : {}),
        ...(spec.proxyPolicy ? { proxyPolicy: spec.proxyPolicy } : {}),
      }
    : undefined;

  const bootFile = fileOf(reply);
  // The address a real server would answer from: --local, else dhcp.serverAddress, else the one the DHCP
  // path picked for this packet (option 54). Scripts are rendered with it (never `tftp:///`).
  let serverAddress = local ?? answeredFrom;
  if (!serverAddress && bootFile !== undefined) {
    serverAddress = firstHostAddress();
    notes.push(
      `the server address is not known from the config or the DHCP answer (several interfaces?): scripts use ` +
        `${serverAddress}, this host's first address; pass --local ADDRESS for another`,
    );
  }
  const session = server.sessions.get(client.mac);
  if (session) server.sessions.upsert(session.mac, { ip: clientIp });
  const fetches: FetchView[] = [];
  if (bootFile) {
    const first = /^[a-z]+:\/\//i.test(bootFile)
      ? await explainHttp(x, bootFile, clientIp, serverAddress)
      : await explainTftp(x, bootFile, server.sessions.get(client.mac), clientIp);
    fetches.push(first);
    if (first.result === 'script' && first.script) {
      for (const next of scriptFetches(first.script)) {
        // A path in a script is relative to the script's server (iPXE resolves it against the script URL).
        fetches.push(await explainHttp(x, next, clientIp, serverAddress));
      }
    }
  } else if (reply) {
    notes.push('the reply names no boot file');
  }
  const report: Omit<ExplainReport, 'verdict'> = {
    config: { file: x.configFile, mode: x.mode, plugins: x.plugins, skipped: x.skipped },
    input: {
      origin: input.origin,
      mac: client.mac,
      messageType: messageTypeName(messageType),
      port: input.port === 'bootserver' ? server.config.dhcp.pxePort : server.config.dhcp.port,
    },
    client: {
      mac: client.mac,
      ...(client.arch !== undefined ? { arch: client.arch } : {}),
      archName: client.archName,
      firmware: client.firmware,
      cpu: client.cpu,
      ...(client.vendorClass !== undefined ? { vendorClass: client.vendorClass } : {}),
      userClass: client.userClass,
      isIpxe: client.isIpxe,
      isPxeClient: client.isPxeClient,
      httpBoot: client.httpBoot,
      ...(client.guid ? { guid: client.guid } : {}),
      labels: session?.labels ?? {},
    },
    admit,
    bootAsked,
    ...(boot ? { boot } : {}),
    dhcp,
    ...(bootFile ? { bootFile } : {}),
    fetches,
    notes,
  };
  return { ...report, verdict: verdictOf(report as ExplainReport, fileSources(x)) };
}

/** The file sources, with the folder or remote each serves when its options name one (for fixes). */
function fileSources(x: ExplainServer): string[] {
  const names = new Set(x.server.files.hooks.resolve.taps.map((t) => t.name));
  names.delete('templates');
  return [...names].map((name) => {
    const def = x.server.config.plugins.find((p) => typeof p === 'object' && !Array.isArray(p) && p.name === name);
    const o = (def as { options?: Record<string, unknown> } | undefined)?.options ?? {};
    const at = [o['root'], o['repo'], o['bucket']].find((v) => typeof v === 'string');
    return at ? `${name}: ${String(at)}` : name;
  });
}
