import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { extraCommands } from '../cli.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import { PxeError } from '../errors.js';
import { buildExplainServer, closeExplainServer } from './build-server.js';
import { syntheticDiscoverBuffer } from './discover.js';
import { explainPacket, type ExplainInput } from './engine.js';
import { formatReport } from './format.js';
import { PcapError, readDhcpFromCapture } from './pcap.js';

const USAGE = `Usage: pxekit explain [--config PATH] [--mode proxy|full] CLIENT [--json]
  CLIENT is one of:
    --mac MAC --arch N [--ipxe]   a synthetic PXE DISCOVER (N = option 93: 0 BIOS, 7 x64 UEFI, 11 arm64,
                                  16 x64 HTTP boot, … or bios|uefi32|uefi64|arm64|http64|httparm64);
                                  --ipxe adds what iPXE sends (user class iPXE, option 175)
    --packet HEX|FILE.hex         a captured DHCP payload (hex, starting at the BOOTP op byte);
                                  --port 4011 when it was sent to the PXE boot server (default 67)
    --pcap FILE [--index N]       the Nth (default 0) DHCP packet to port 67/4011 of a pcap/pcapng file
  --client-ip IP   address the client fetches from (default: the packet's ciaddr, else 192.0.2.100;
                   full mode: the offered one)
  --local IP       server address the packet arrives on, used in rendered scripts (default
                   dhcp.serverAddress, else the address the DHCP answer comes from)
  --log-level L    show the server's log lines on stderr (default silent)
Runs the configured plugins without opening any socket and prints each decision: classification,
admit, selectBoot, the reply's options, what a TFTP/HTTP fetch of the boot file would get, and the
result. Exit: 0 the client boots, 1 it would not (denied, no answer, no boot file, or a file that no
source has: the result says why and the fix), 2 bad arguments.`;

const ARCH_NAMES: Record<string, number> = {
  bios: 0,
  uefi32: 6,
  uefi64: 7,
  x64: 7,
  arm32: 10,
  arm64: 11,
  http32: 15,
  http64: 16,
  httparm32: 18,
  httparm64: 19,
};

type Out = { out: (s: string) => void; err: (s: string) => void };

class UsageError extends Error {}

function hexBytes(text: string, what: string): Buffer {
  const hex = text.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new UsageError(`${what} is not hex (pairs of 0-9a-f)`);
  return Buffer.from(hex, 'hex');
}

function parseArch(v: string): number {
  const named = ARCH_NAMES[v.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 0xffff)
    throw new UsageError(
      `--arch ${v}: give an option 93 number (0..65535) or one of ${Object.keys(ARCH_NAMES).join(', ')}`,
    );
  return Number(v);
}

/** The packet to explain, from the CLI options. */
export function explainInput(v: Record<string, string | boolean | undefined>): ExplainInput {
  const given = ['mac', 'packet', 'pcap'].filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --mac (with --arch), --packet or --pcap');
  const common = {
    ...(typeof v['client-ip'] === 'string' ? { clientIp: v['client-ip'] } : {}),
    ...(typeof v['local'] === 'string' ? { local: v['local'] } : {}),
  };
  if (typeof v['mac'] === 'string') {
    if (typeof v['arch'] !== 'string') throw new UsageError('--mac needs --arch');
    const arch = parseArch(v['arch']);
    const ipxe = v['ipxe'] === true;
    try {
      return {
        packet: syntheticDiscoverBuffer({ mac: v['mac'], arch, ipxe }),
        port: 'dhcp',
        origin: `synthetic DISCOVER from ${v['mac'].toLowerCase()}, arch ${arch}${ipxe ? ', iPXE' : ''}`,
        ...common,
      };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (typeof v['packet'] === 'string') {
    const arg = v['packet'];
    const fromFile = existsSync(arg);
    const packet = hexBytes(fromFile ? readFileSync(arg, 'utf8') : arg, fromFile ? arg : '--packet');
    const port =
      v['port'] === undefined || v['port'] === '67' || v['port'] === 'dhcp'
        ? 'dhcp'
        : v['port'] === '4011' || v['port'] === 'bootserver'
          ? 'bootserver'
          : undefined;
    if (!port) throw new UsageError('--port must be 67 (dhcp) or 4011 (bootserver)');
    return { packet, port, origin: fromFile ? `packet ${arg}` : 'packet from --packet', ...common };
  }
  const file = v['pcap'] as string;
  const index = v['index'] === undefined ? 0 : Number(v['index']);
  if (!Number.isInteger(index) || index < 0) throw new UsageError('--index must be 0 or more');
  const found = readDhcpFromCapture(readFileSync(file));
  const pick = found[index];
  if (!pick)
    throw new UsageError(
      `${file}: ${found.length} DHCP packet${found.length === 1 ? '' : 's'} to port 67/4011; no index ${index}`,
    );
  return {
    packet: pick.payload,
    port: pick.dstPort === 4011 ? 'bootserver' : 'dhcp',
    origin: `${file} DHCP packet #${index} (frame ${pick.frame}, ${pick.srcIp}:${pick.srcPort} → ${pick.dstIp}:${pick.dstPort})`,
    ...common,
  };
}

/** `pxekit explain …` */
export async function explainCommand(argv: string[], io: Out): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        mode: { type: 'string' },
        mac: { type: 'string' },
        arch: { type: 'string' },
        ipxe: { type: 'boolean' },
        packet: { type: 'string' },
        port: { type: 'string' },
        pcap: { type: 'string' },
        index: { type: 'string' },
        'client-ip': { type: 'string' },
        local: { type: 'string' },
        json: { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`pxekit explain: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values['help']) {
    io.out(USAGE);
    return 0;
  }
  const mode = values['mode'];
  if (mode !== undefined && mode !== 'proxy' && mode !== 'full') {
    io.err(`pxekit explain: --mode must be proxy or full\n\n${USAGE}`);
    return 2;
  }
  let input: ExplainInput;
  try {
    input = explainInput(values);
  } catch (err) {
    if (err instanceof UsageError || err instanceof PcapError) {
      io.err(`pxekit explain: ${err.message}${err instanceof UsageError ? `\n\n${USAGE}` : ''}`);
      return 2;
    }
    io.err(`pxekit explain: ${(err as Error).message}`);
    return 1;
  }
  try {
    const x = await buildExplainServer({
      ...(typeof values['config'] === 'string' ? { configPath: values['config'] } : {}),
      ...(mode ? { mode } : {}),
      ...(typeof values['log-level'] === 'string' ? { logLevel: values['log-level'] as LevelWithSilent } : {}),
    });
    try {
      const report = await explainPacket(x, input);
      io.out(values['json'] ? JSON.stringify(report, null, 2) : formatReport(report).trimEnd());
      // Exit 1 when the client would not boot: scripts and CI can check a config with explain.
      return report.verdict.boots ? 0 : 1;
    } finally {
      await closeExplainServer(x);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`pxekit explain: ${err.issues.length} config problem${err.issues.length === 1 ? '' : 's'} [${err.code}]:`);
      for (const i of err.issues) io.err(`  - ${formatIssue(i)}`);
    } else if (err instanceof PxeError) {
      io.err(`pxekit explain: ${err.message} [${err.code}]${err.fix ? `\n  fix: ${err.fix}` : ''}`);
    } else {
      io.err(`pxekit explain: ${err instanceof Error ? err.message : String(err)}`);
    }
    return 1;
  }
}

extraCommands.set('explain', {
  summary: 'show, step by step, what the configured plugins decide for a client (no sockets)',
  run: explainCommand,
});
