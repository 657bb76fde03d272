/**
 * The DHCP answers a client-side capture saw (tcpdump -w, classic pcap, Ethernet), for the fault
 * tests: who (server IP) answered which client (chaddr), exchange (xid) and message type, when.
 */
import { readFileSync } from 'node:fs';

export interface Answer {
  /** Capture time, ms since the epoch. */
  at: number;
  server: string;
  mac: string;
  xid: number;
  /** 2 = OFFER, 5 = ACK, 6 = NAK. */
  type: number;
  yiaddr: string;
}

const ip4 = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

export function readAnswers(file: string): Answer[] {
  const buf = readFileSync(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const out: Answer[] = [];
  for (let off = 24; off + 16 <= buf.length;) {
    const at = u32(off) * 1000 + u32(off + 4) / (nano ? 1e6 : 1e3);
    const len = u32(off + 8);
    const f = buf.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    if (f.length < 14 + 20 + 8 + 240 || f.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (f[14]! & 0x0f) * 4;
    if (f[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    if (f.readUInt16BE(udp) !== 67) continue;
    const d = udp + 8;
    if (f[d] !== 2) continue; // BOOTREPLY
    let type = 0;
    for (let o = d + 240; o < f.length;) {
      const code = f[o]!;
      if (code === 255) break;
      if (code === 0) {
        o++;
        continue;
      }
      if (code === 53) type = f[o + 2]!;
      o += 2 + f[o + 1]!;
    }
    const mac = [...f.subarray(d + 28, d + 34)].map((x) => x.toString(16).padStart(2, '0')).join(':');
    out.push({ at, server: ip4(f, 14 + 12), mac, xid: f.readUInt32BE(d + 4), type, yiaddr: ip4(f, d + 16) });
  }
  return out;
}

/**
 * Exchanges answered by more than one server, outside the `grace` windows: an exchange is the client
 * (chaddr), its xid and what was asked — a DISCOVER (answered by OFFER) or a REQUEST (ACK or NAK).
 */
export function doubleAnswers(answers: Answer[], grace: Array<[number, number]>): Answer[][] {
  const by = new Map<string, Answer[]>();
  for (const a of answers) {
    if (grace.some(([from, to]) => a.at >= from && a.at < to)) continue;
    const k = `${a.xid}/${a.mac}/${a.type === 2 ? 'discover' : 'request'}`;
    by.set(k, [...(by.get(k) ?? []), a]);
  }
  return [...by.values()].filter((g) => new Set(g.map((a) => a.server)).size > 1);
}

/** Addresses ACKed to two different clients. */
export function addressesToTwoMacs(answers: Answer[]): string[] {
  const holder = new Map<string, string>();
  const bad = new Set<string>();
  for (const a of answers) {
    if (a.type !== 5) continue;
    const prev = holder.get(a.yiaddr);
    if (prev !== undefined && prev !== a.mac) bad.add(`${a.yiaddr}: ${prev} and ${a.mac}`);
    holder.set(a.yiaddr, a.mac);
  }
  return [...bad];
}
