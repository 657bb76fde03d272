/**
 * Cuts the fixture packets out of the pcaps that capture.sh recorded and writes test/fixtures:
 * one `.hex` per packet (the UDP payload, lowercase hex, one line) and `index.json` with where each
 * came from and a summary decoded by tshark — not by pxekit, so the golden tests compare pxekit's
 * decoder with an independent one.
 *
 * Usage: node --conditions=source --import tsx test/lab/extract-fixtures.ts PCAP_DIR OUT_DIR
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RULES, type Packet } from './fixture-rules.js';

const FIELDS = [
  'frame.number',
  'ip.src',
  'udp.srcport',
  'ip.dst',
  'udp.dstport',
  'udp.payload',
  '_ws.col.Info',
  'dhcp.option.type',
  'dhcp.option.value',
  'dhcp.id',
  'dhcp.hw.mac_addr',
  'dhcp.ip.your',
  'dhcp.ip.server',
  'dhcp.file',
];
const TYPE_NAMES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

/** Every UDP packet of one pcap, with tshark's DHCP fields where it decoded DHCP. */
function readPcap(file: string): Packet[] {
  const out = execFileSync(
    'tshark',
    ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,']
      .concat(FIELDS.flatMap((f) => ['-e', f]))
      .concat(['udp']),
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [n, src, sport, dst, dport, payload, info, types, values, xid, mac, yiaddr, siaddr, file] =
        line.split('\t');
      const p: Packet = {
        frame: Number(n),
        src: src ?? '',
        sport: Number(sport),
        dst: dst ?? '',
        dport: Number(dport),
        payload: Buffer.from(payload ?? '', 'hex'),
        info: info ?? '',
      };
      if (types) {
        // tshark lists the options in wire order, with a value for each; pad/end are not options
        const codes = types.split(',').map(Number);
        const vals = (values ?? '').split(',');
        const options = new Map<number, Buffer>();
        codes.forEach((c, i) => {
          if (c !== 0 && c !== 255) options.set(c, Buffer.from(vals[i] ?? '', 'hex'));
        });
        p.dhcp = {
          type: options.get(53)?.[0] ?? 0,
          xid: xid ?? '',
          mac: (mac ?? '').split(',')[0] ?? '',
          order: [...options.keys()],
          options,
          yiaddr: yiaddr ?? '',
          siaddr: siaddr ?? '',
          file: file ?? '',
        };
      }
      return p;
    });
}

/** The index summary: ``DISCOVER; xid 0x..; opt93=7; opt60=`...`; options 53,57,...`` (TFTP: tshark's info). */
function summary(p: Packet): string {
  const d = p.dhcp;
  if (!d) return p.info;
  const text = (code: number) => d.options.get(code)?.toString('latin1').replace(/\0+$/, '');
  const parts = [TYPE_NAMES[d.type] ?? `TYPE${d.type}`, `xid ${d.xid}`];
  const arch = d.options.get(93);
  if (arch && arch.length >= 2) parts.push(`opt93=${arch.readUInt16BE(0)}`);
  for (const code of [60, 77]) if (d.options.has(code)) parts.push(`opt${code}=\`${text(code)}\``);
  if (d.yiaddr && d.yiaddr !== '0.0.0.0') parts.push(`yiaddr=${d.yiaddr}`);
  if (d.siaddr && d.siaddr !== '0.0.0.0') parts.push(`siaddr=${d.siaddr}`);
  if (d.file) parts.push(`file=\`${d.file}\``);
  if (d.options.has(67)) parts.push(`opt67=\`${text(67)}\``);
  parts.push(`options ${d.order.join(',')}`);
  return parts.join('; ');
}

function versions(dir: string): Map<string, string> {
  const file = path.join(dir, 'versions.txt');
  const map = new Map<string, string>();
  if (!existsSync(file)) return map;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [pkg, version] = line.trim().split(' ');
    if (pkg && version) map.set(pkg, version);
  }
  return map;
}

function main(): void {
  const [pcapDir, outDir] = process.argv.slice(2);
  if (!pcapDir || !outDir) throw new Error('usage: extract-fixtures.ts PCAP_DIR OUT_DIR');
  const pcaps = new Map<string, Packet[]>();
  const picked = new Map<string, Packet>();
  const ver = versions(pcapDir);
  const index: Record<string, unknown>[] = [];
  const missing: string[] = [];
  for (const rule of RULES) {
    const pcapFile = path.join(pcapDir, `${rule.pcap}.pcapng`);
    if (!pcaps.has(rule.pcap)) pcaps.set(rule.pcap, existsSync(pcapFile) ? readPcap(pcapFile) : []);
    const p = rule.pick(pcaps.get(rule.pcap)!, picked);
    if (!p) {
      missing.push(`${rule.file} (from ${rule.pcap}.pcapng)`);
      continue;
    }
    picked.set(rule.file, p);
    index.push({
      file: rule.file,
      client: rule.client(ver),
      src: `${p.src}:${p.sport}`,
      dst: `${p.dst}:${p.dport}`,
      bytes: p.payload.length,
      decoded: summary(p),
      note: rule.note,
    });
  }
  if (missing.length && !process.env.PARTIAL)
    throw new Error(`no packet found for:\n  ${missing.join('\n  ')}\n(see the capture logs)`);
  for (const folder of ['dhcp', 'tftp']) {
    const dir = path.join(outDir, folder);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.hex')) rmSync(path.join(dir, f));
  }
  for (const [file, p] of picked) writeFileSync(path.join(outDir, file), `${p.payload.toString('hex')}\n`);
  writeFileSync(path.join(outDir, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
  const vfile = path.join(pcapDir, 'versions.txt');
  if (existsSync(vfile)) writeFileSync(path.join(outDir, 'versions.txt'), readFileSync(vfile));
  console.log(`extract-fixtures: ${picked.size} packets written to ${outDir}`);
}

main();
