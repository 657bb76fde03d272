import type { DhcpContext } from '../hooks/dhcp.js';
import type { PxeServer } from '../server.js';
import { isUrl, joinUrl, serverBaseUrl, boundHttpPort } from './url.js';

/**
 * Turns a configured boot target into what this client can use: URLs are kept; for a client that
 * wants a URL (UEFI HTTP boot: arch 15/16/18/19 or option 60 `HTTPClient`) a path is joined to the
 * server's base URL; for TFTP clients a path is the TFTP file name. Undefined when an HTTP-boot client
 * needs a URL and no base URL is known (no `http.baseUrl`, no local address).
 */
export function bootTargetFor(
  server: PxeServer,
  ctx: Pick<DhcpContext, 'client' | 'local'>,
  target: string,
): string | undefined {
  if (isUrl(target) || !ctx.client.httpBoot) return target;
  const base = serverBaseUrl(server.config, ctx.local.address, boundHttpPort(server));
  return base ? joinUrl(base, target) : undefined;
}
