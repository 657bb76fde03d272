/**
 * The DHCPv6 sockets: [::]:547 joined to ff02::1:2 on each served link and, in boot-only mode, the PXE
 * boot-server socket on [serverAddress]:4011 (EDK2 asks there for the boot file after a proxy Advertise,
 * by unicast, and takes the answer only from the address in the boot URL: so it binds that address, not `::`).
 * The packet handler can be swapped (a config reload): datagrams from then on go to the new one, and
 * replies still being worked out by the old one go out through the same socket.
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import type { ListeningAddress } from '../hooks/server.js';
import { listenError } from '../errors.js';
import { LogLimiter } from '../util/log-limit.js';

/** Which socket a datagram came in on. */
export type Dhcp6Port = 'server' | 'bootserver';

/** Answers one datagram: the reply's bytes and destination, or undefined for none. */
export type Dhcp6PacketHandler = (
  buf: Buffer,
  source: { address: string; port: number },
  via: Dhcp6Port,
) => Promise<{ buffer: Buffer; to: { address: string; port: number } } | undefined>;

export interface Dhcp6SocketsOptions {
  port: number;
  /** Bind the boot-server socket here (boot-only mode); undefined = none. */
  bootServer: { address: string; port: number } | undefined;
  /** Link names to join ff02::1:2 on. */
  links: readonly string[];
  log: Logger;
}

export class Dhcp6Sockets {
  readonly #opts: Dhcp6SocketsOptions;
  readonly #sockets: Array<{ socket: dgram.Socket; via: Dhcp6Port }> = [];
  /** Socket errors come per datagram (a reply that cannot be sent): one line a second per kind. */
  readonly #limited = new LogLimiter();
  #handler: Dhcp6PacketHandler;

  constructor(opts: Dhcp6SocketsOptions, handler: Dhcp6PacketHandler) {
    this.#opts = opts;
    this.#handler = handler;
  }

  async listen(): Promise<ListeningAddress[]> {
    const { port, bootServer, links, log } = this.#opts;
    const out: ListeningAddress[] = [];
    try {
      const server = await this.#bind('server', '::', port, 'DHCPv6');
      for (const link of links) {
        try {
          server.addMembership('ff02::1:2', `::%${link}`);
        } catch (err) {
          log.warn({ event: 'dhcp6.join.error', interface: link, err }, 'cannot join ff02::1:2');
        }
      }
      out.push({ protocol: 'dhcp', address: '::', port: server.address().port });
      if (bootServer) {
        const s = await this.#bind('bootserver', bootServer.address, bootServer.port, 'DHCPv6 PXE boot server');
        out.push({ protocol: 'pxe', address: bootServer.address, port: s.address().port });
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    return out;
  }

  /** Datagrams from now on go to `handler`. */
  usePacketHandler(handler: Dhcp6PacketHandler): void {
    this.#handler = handler;
  }

  async close(): Promise<void> {
    const all = this.#sockets.splice(0);
    await Promise.all(all.map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.#limited.flush();
  }

  async #bind(via: Dhcp6Port, address: string, port: number, what: string): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: 'udp6', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, what, port, `[${address}]`)));
      socket.bind(port, address, () => resolve());
    });
    this.#sockets.push({ socket, via });
    const log = this.#opts.log;
    socket.on('error', (err) =>
      this.#limited.error(log, { event: 'dhcp6.socket.error', err, via }, 'DHCPv6 socket error'),
    );
    socket.on('message', (buf, rinfo) => {
      void this.#handler(buf, { address: rinfo.address, port: rinfo.port }, via).then((out) => {
        if (out) socket.send(out.buffer, out.to.port, out.to.address);
      });
    });
    return socket;
  }
}
