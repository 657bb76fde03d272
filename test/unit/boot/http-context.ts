/** A minimal HttpContext for calling `server.http.hooks.script` directly (no socket). */
import type { HttpContext } from '../../../core/hooks/http.js';
import type { PxeServer } from '../../../core/server.js';

export function httpContext(server: PxeServer, url: string, client = '10.77.0.128'): HttpContext {
  const u = new URL(url, 'http://10.77.0.1');
  const mac = u.searchParams.get('mac');
  const session = (mac ? server.sessions.get(mac) : undefined) ?? server.sessions.byIp(client);
  return {
    req: { socket: { localAddress: '::ffff:10.77.0.1' }, headers: {} } as unknown as HttpContext['req'],
    res: {} as HttpContext['res'],
    method: 'GET',
    path: u.pathname,
    query: u.searchParams,
    client: { address: client, port: 50000 },
    ...(session ? { session } : {}),
    log: server.log,
  };
}

/** Reads a FileHandle's whole content as text. */
export async function readHandle(h: { open(): Promise<NodeJS.ReadableStream> }): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await h.open()) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
