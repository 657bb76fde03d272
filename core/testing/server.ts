/**
 * A pxekit server for tests: plugins applied, `ready` run, no socket bound. DHCP, TFTP and HTTP
 * requests go through the real pipelines with `server.inject`; boot events are recorded.
 */
import type { Logger } from 'pino';
import type { PxeConfigInput } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import { decode } from '../dhcp/codec.js';
import type { DhcpPacket } from '../dhcp/packet.js';
import type { ReplyTo } from '../dhcp/pipeline.js';
import type { BootEvent } from '../hooks/server.js';
import type { HttpInjectRequest, HttpInjectResponse } from '../http/inject.js';
import type { PluginDefinition } from '../plugin.js';
import { PxeServer } from '../server.js';
import type { DhcpInjectOptions } from '../services/dhcp-service.js';
import type { BootSpec } from '../session/types.js';
import type { TftpInjectRequest, TftpInjectResult } from '../tftp/inject.js';
import type { PxeClient } from './clients.js';

export interface TestServerOptions extends Omit<PxeConfigInput, 'plugins'> {
  plugins?: PluginDefinition[];
  /** The server's address on the client's network: where injected packets "arrived" (default 192.0.2.1). */
  address?: string;
  /** Folder relative paths in plugin options resolve against (default the cwd). */
  baseDir?: string;
  logger?: Logger;
}

/** What one injected DHCP packet produced. */
export interface DhcpResult {
  reply?: DhcpPacket;
  to?: ReplyTo;
  /** Option 67, else the BOOTP file field, of the reply. */
  bootFile?: string;
  /** The boot decision this packet made (recorded on the session), with `decidedBy`. */
  boot?: BootSpec;
  /** Set when `admit` denied the client. */
  denied?: { reason: string; plugin?: string };
  /** Boot events emitted while it ran. */
  events: BootEvent[];
}

/** What a whole firmware exchange produced: the last reply's fields, and each step. */
export interface BootResult extends DhcpResult {
  steps: DhcpResult[];
  /** The address given (full mode: yiaddr of the ACK). */
  address?: string;
  /** siaddr of the last reply (where the client fetches over TFTP). */
  nextServer?: string;
}

export class TestServer {
  /** Every boot event since the server was made. */
  readonly events: BootEvent[] = [];

  constructor(
    readonly server: PxeServer,
    readonly address: string,
  ) {
    server.hooks.bootEvent.tap('pxekit/testing', (e) => this.events.push(e));
  }

  /** Injects one DHCP packet (default: arrived on port 67 at `address`). */
  async dhcp(packet: DhcpPacket | Buffer, opts: DhcpInjectOptions = {}): Promise<DhcpResult> {
    const p = Buffer.isBuffer(packet) ? decode(packet) : packet;
    const before = this.server.sessions.get(p.mac)?.boot;
    const from = this.events.length;
    const [out] = await this.server.inject.dhcp(p, { local: { address: this.address }, ...opts });
    const events = this.events.slice(from).filter((e) => e.mac === undefined || e.mac === p.mac);
    const after = this.server.sessions.get(p.mac)?.boot;
    const deny = events.find((e) => e.type === 'admit.deny');
    const reply = out?.packet;
    const bootFile = reply && (reply.options.get(67)?.toString('latin1').replace(/\0+$/, '') || reply.file);
    return {
      ...(reply ? { reply } : {}),
      ...(out ? { to: out.to } : {}),
      ...(bootFile ? { bootFile } : {}),
      ...(after && after !== before ? { boot: after } : {}),
      ...(deny
        ? { denied: { reason: String(deny.data['reason']), ...(deny.plugin ? { plugin: deny.plugin } : {}) } }
        : {}),
      events,
    };
  }

  /**
   * What the client's firmware does: DISCOVER; in proxy mode, when the offer sends it to the boot
   * server (siaddr set, no file: UEFI ROMs), the REQUEST to port 4011; in full mode, REQUEST → ACK.
   */
  async boot(client: PxeClient): Promise<BootResult> {
    const steps = [await this.dhcp(client.discover())];
    const offer = steps[0]!.reply;
    if (offer && this.server.config.dhcp.mode === 'full') {
      steps.push(await this.dhcp(client.request(offer.yiaddr, this.#serverId(offer))));
    } else if (offer && !steps[0]!.bootFile && offer.siaddr !== '0.0.0.0') {
      const req = client.bootServerRequest();
      steps.push(await this.dhcp(req, { port: 'bootserver', source: { address: client.ip, port: 4011 } }));
    }
    const last = steps[steps.length - 1]!;
    const boot = [...steps].reverse().find((s) => s.boot)?.boot;
    const denied = steps.find((s) => s.denied)?.denied;
    return {
      ...last,
      ...(boot ? { boot } : {}),
      ...(denied ? { denied } : {}),
      ...(last.reply && last.reply.yiaddr !== '0.0.0.0' ? { address: last.reply.yiaddr } : {}),
      ...(last.reply ? { nextServer: last.reply.siaddr } : {}),
      events: steps.flatMap((s) => s.events),
      steps,
    };
  }

  /** One TFTP read through the real TFTP pipeline (`path` as the client sends it). */
  tftp(req: string | TftpInjectRequest): Promise<TftpInjectResult> {
    return this.server.inject.tftp(typeof req === 'string' ? { path: req } : req);
  }

  /** One HTTP request through the real HTTP handler (`path` with its query, as on the wire). */
  http(req: string | HttpInjectRequest): Promise<HttpInjectResponse> {
    return this.server.inject.http(typeof req === 'string' ? { path: req } : req);
  }

  /** Runs the `close` taps (plugins release what `ready` opened). */
  close(): Promise<void> {
    return this.server.close();
  }

  #serverId(reply: DhcpPacket): string {
    const id = reply.options.get(54);
    return id && id.length === 4 ? [...id].join('.') : this.address;
  }
}

/**
 * Builds a server from plugin instances without binding anything, runs its `ready` taps (plugins open
 * files, clients, watchers) and seals its hooks as `start()` would. DHCP defaults to proxy mode; logs
 * are silent unless `log` says otherwise. Close it with `close()` (in `t.after`).
 */
export async function createTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const { plugins = [], address = '192.0.2.1', baseDir, logger, ...rest } = opts;
  const config = validateConfig({
    ...rest,
    log: { level: 'silent', ...rest.log },
    dhcp: { mode: 'proxy', ...rest.dhcp },
    plugins: [],
  });
  config.plugins = plugins;
  const server = new PxeServer(config, { ...(logger ? { logger } : {}), ...(baseDir ? { baseDir } : {}) });
  const test = new TestServer(server, address);
  server.runner.seal();
  await server.hooks.ready.promise();
  return test;
}
