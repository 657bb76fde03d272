/**
 * ProxyDHCP on port 67 (PXE spec 2.1 §2.2.2): boot information without addresses, beside a DHCP
 * server we do not run. Only PXE (`PXEClient`) and UEFI HTTP boot (`HTTPClient`) clients get an
 * answer; an ordinary client (dhclient, a phone) never hears from us.
 *
 * Two paths, chosen per client by `BootSpec.proxyPolicy` (default from the client):
 * - `option43` (BIOS ROMs, iPXE): option 43 with discovery control 6 = 8 ("skip discovery, boot the
 *   file in this offer") and the boot file in the OFFER itself.
 * - `bootserver` (most UEFI ROMs, which ignore a 67 offer carrying 43 "bypass"): no option 43 and no
 *   boot file, siaddr = us; the client then asks the boot server on port 4011 (bootserver.ts). This is
 *   what the dnsmasq capture `dnsmasq-proxy-offer-uefi-edk2` shows.
 * UEFI HTTP boot clients get the URL in the offer with option 60 `HTTPClient` (EDK2 HttpBootDxe takes a
 * proxy offer with a URI) and no option 43.
 */
import { putBootSpec, echoVendorClass } from './boot-reply.js';
import { requestedIp, serverId as serverIdOption } from './option-accessors.js';
import { DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST } from './packet.js';
import { buildPxeVendorOptions, DISCOVERY } from './pxe-vendor.js';
import type { ClientClass } from './pxe.js';
import { createReply } from './reply.js';
import type { DhcpContext } from '../hooks/dhcp.js';
import type { BootSpec } from '../session/types.js';
import type { Outcome, PipelineEnv } from './pipeline-types.js';

export type ProxyPolicy = NonNullable<BootSpec['proxyPolicy']>;

/** The default proxy path for a client: BIOS ROMs and iPXE take option 43; other (UEFI) ROMs use 4011. */
export function defaultProxyPolicy(client: ClientClass): ProxyPolicy {
  return client.isIpxe || client.firmware === 'bios' ? 'option43' : 'bootserver';
}

/** Handles one port-67 packet in proxy mode. */
export async function handleProxy(ctx: DhcpContext, env: PipelineEnv, serverId: string): Promise<Outcome> {
  const { client, packet } = ctx;
  if (!client.isPxeClient && !client.isHttpClient)
    return { ignore: 'not a PXE or HTTP-boot client (no option 60 PXEClient/HTTPClient)' };
  let type: number;
  if (ctx.messageType === DHCPDISCOVER) {
    type = DHCPOFFER;
  } else if (ctx.messageType === DHCPREQUEST) {
    // A REQUEST on 67 is for the site server unless the client names us in option 54; one that asks
    // for a real address (option 50) is an address request a proxy cannot grant (udhcpc taking our
    // yiaddr 0 offer would otherwise "bind" 0.0.0.0).
    if (serverIdOption(packet) !== serverId) return { ignore: 'REQUEST for another server' };
    const wanted = requestedIp(packet);
    if (wanted !== undefined && wanted !== '0.0.0.0')
      return { ignore: `REQUEST for address ${wanted}: proxy mode hands out none` };
    type = DHCPACK;
  } else {
    return { ignore: `message type ${ctx.messageType} is not answered in proxy mode` };
  }

  const decision = await env.decideBoot(ctx);
  const spec = decision.spec;
  if (!spec || spec.noBoot || !spec.file)
    return { noBoot: spec?.noBoot ? 'noBoot' : spec ? 'no boot file' : 'no plugin chose a boot file' };

  const reply = createReply(packet, type, serverId);
  echoVendorClass(reply, client, { pxe: true });
  const policy: ProxyPolicy | 'http' = client.isHttpClient ? 'http' : (spec.proxyPolicy ?? defaultProxyPolicy(client));
  let info = { bootFile: undefined as string | undefined, nextServer: serverId };
  if (policy === 'bootserver') {
    // siaddr is where EDK2 sends its 4011 request (it falls back to option 54 only when siaddr is 0).
    reply.siaddr = serverId;
  } else {
    info = putBootSpec({ reply, request: packet, spec, serverAddress: serverId });
    if (policy === 'option43') reply.options.set(43, buildPxeVendorOptions({ discoveryControl: DISCOVERY.BYPASS }));
  }
  return {
    send: {
      reply,
      event: type === DHCPOFFER ? 'dhcp.proxy.offer' : 'dhcp.proxy.ack',
      delay: type === DHCPOFFER,
      spec: decision.spec,
      ...(decision.plugin ? { plugin: decision.plugin } : {}),
      data: { bootFile: info.bootFile, nextServer: info.nextServer, policy },
    },
  };
}
