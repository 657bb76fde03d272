/**
 * Helpers for the DHCP service tests: a server with a tiny selectBoot plugin, a memory logger,
 * boot-event capture, and request builders for synthetic clients.
 */
import { Writable } from 'node:stream';
import { createServer } from '../../../core/create-server.js';
import type { PxeServer } from '../../../core/server.js';
import { createLogger } from '../../../core/log.js';
import { definePlugin, type PluginDefinition } from '../../../core/plugin.js';
import type { PxeConfigInput } from '../../../core/config/types.js';
import type { BootEvent } from '../../../core/hooks/server.js';
import type { BootSpec } from '../../../core/session/types.js';
import type { DhcpContext } from '../../../core/hooks/dhcp.js';
import { chaddrFromMac, createPacket, BOOTREQUEST, type DhcpPacket } from '../../../core/dhcp/packet.js';
import { setOption } from '../../../core/dhcp/option-values.js';

/** A logger whose JSON lines land in an array. */
export function memoryLogger(level: 'debug' | 'info' = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level, destination: dest }), lines };
}

/** A plugin named `bad` whose classify tap throws on every packet (DHCPv4 and DHCPv6 alike). */
export function failingClassify(): PluginDefinition {
  return definePlugin({
    name: 'bad',
    apply(server) {
      server.dhcp.hooks.classify.tap('bad', () => {
        throw new Error('x');
      });
    },
  });
}

/** selectBoot by client kind: BIOS ROM → an HTTP script URL, UEFI → ipxe.efi, HTTP boot → a URL. */
export function testBoot(decide?: (ctx: DhcpContext) => BootSpec | undefined): PluginDefinition {
  return definePlugin({
    name: 'test-boot',
    optionsSchema: { type: 'object' },
    apply(server) {
      server.dhcp.hooks.selectBoot.tap('test-boot', (ctx) => {
        if (decide) return decide(ctx);
        const c = ctx.client;
        if (c.isHttpClient) return { file: 'http://10.99.0.1/ipxe.efi' };
        if (c.isIpxe) return { file: 'http://10.99.0.1/boot.ipxe' };
        if (c.isPxeClient) return { file: 'ipxe.efi' };
        return undefined;
      });
    },
  });
}

export interface TestServer {
  server: PxeServer;
  lines: Record<string, unknown>[];
  events: BootEvent[];
}

/** A server (not started) in `mode` with the test plugin first, then `plugins`. */
export function makeServer(config: PxeConfigInput, plugins: PluginDefinition[] = [testBoot()]): TestServer {
  const { logger, lines } = memoryLogger();
  const events: BootEvent[] = [];
  const watcher = definePlugin({
    name: 'test-events',
    apply(server) {
      server.hooks.bootEvent.tap('test-events', (e) => {
        events.push(e);
      });
    },
  });
  const server = createServer({
    tftp: { enabled: false },
    http: { enabled: false },
    ...config,
    logger,
    plugins: [watcher, ...plugins],
  });
  return { server, lines, events };
}

/** A request from a synthetic client: `type` in option 53, plus any extra options. */
export function request(
  mac: string,
  type: number,
  fields: Partial<DhcpPacket> = {},
  options: Record<number, unknown> = {},
): DhcpPacket {
  const p = createPacket({
    op: BOOTREQUEST,
    xid: fields.xid ?? (Math.random() * 0xffffffff) >>> 0,
    chaddr: chaddrFromMac(mac)!,
    ...fields,
  });
  setOption(p, 53, type);
  for (const [code, value] of Object.entries(options)) setOption(p, Number(code), value as never);
  return p;
}

/** Option codes of a packet in wire order. */
export function codes(p: DhcpPacket): number[] {
  return [...p.options.keys()];
}

/** A random locally administered MAC. */
export function randomMac(i: number): string {
  const b = [0x02, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255, (Math.random() * 256) | 0];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
