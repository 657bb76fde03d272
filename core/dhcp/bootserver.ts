/**
 * The PXE boot server on port 4011 (PXE spec 2.1 §2.2.4, the "BINL" exchange): a client that got its
 * address elsewhere asks us for its boot file with a DHCPREQUEST and gets a DHCPACK back at the
 * address and port it sent from. Three real clients (test/fixtures/dhcp):
 * - OVMF EDK2 sends from port 4011 with ciaddr set and a new xid → ACK to ciaddr:4011;
 * - iPXE (`ipxe.efi`) sends from port 68 → ACK to its address:68;
 * - the BIOS iPXE ROM's boot-server discovery has xid 0, option 60 just `PXEClient` and option 43
 *   sub-option 71 (boot item): the ACK echoes the boot item in option 43 and, like dnsmasq, puts the
 *   client's address in yiaddr.
 */
import { echoVendorClass, putBootSpec } from './boot-reply.js';
import { DHCPACK, DHCPINFORM, DHCPREQUEST } from './packet.js';
import { buildPxeVendorOptions } from './pxe-vendor.js';
import { createReply } from './reply.js';
import type { DhcpContext } from '../hooks/dhcp.js';
import type { Outcome, PipelineEnv } from './pipeline-types.js';

export async function handleBootServer(ctx: DhcpContext, env: PipelineEnv, serverId: string): Promise<Outcome> {
  const { client, packet } = ctx;
  if (ctx.messageType !== DHCPREQUEST && ctx.messageType !== DHCPINFORM)
    return { ignore: `message type ${ctx.messageType} on the boot-server port` };
  if (!client.isPxeClient && !client.isHttpClient) return { ignore: 'not a PXE client (no option 60 PXEClient)' };

  const decision = await env.decideBoot(ctx);
  const spec = decision.spec;
  if (!spec || spec.noBoot || !spec.file)
    return { noBoot: spec?.noBoot ? 'noBoot' : spec ? 'no boot file' : 'no plugin chose a boot file' };

  const reply = createReply(packet, DHCPACK, serverId);
  echoVendorClass(reply, client, { pxe: true });
  const item = client.pxeBootItem;
  // dnsmasq answers a boot-item request without sname and with the client's address in yiaddr;
  // other 4011 requests get sname = next server and ciaddr echoed (captures dnsmasq-proxy-ack-4011-*).
  const info = putBootSpec({ reply, request: packet, spec, serverAddress: serverId, snameFallback: !item });
  if (item) {
    reply.yiaddr = packet.ciaddr;
    reply.ciaddr = '0.0.0.0';
    reply.options.set(43, buildPxeVendorOptions({ bootItem: item }));
  }
  return {
    send: {
      reply,
      event: 'dhcp.bootserver.ack',
      spec,
      ...(decision.plugin ? { plugin: decision.plugin } : {}),
      data: { bootFile: info.bootFile, nextServer: info.nextServer, ...(item ? { bootItem: item } : {}) },
    },
  };
}
