/**
 * Minimal capture reading for `pxekit explain --pcap`: classic pcap (both byte orders, µs and ns) and
 * pcapng (SHB/IDB/EPB/SPB, both byte orders), link types Ethernet (with 802.1Q tags), Linux cooked
 * (SLL, SLL2) and raw IPv4; IPv4 (not fragmented) → UDP to port 67 or 4011. Everything else is skipped.
 */

export interface CapturedDhcp {
  /** 0-based index among the DHCP packets found. */
  index: number;
  /** 1-based frame number in the capture (as Wireshark shows it). */
  frame: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_SLL = 113;
const LINK_IPV4 = 228;
const LINK_SLL2 = 276;
const DHCP_PORTS = new Set([67, 4011]);
/** Bound on frames read, so a huge capture cannot keep explain busy. */
const MAX_FRAMES = 1_000_000;

export class PcapError extends Error {}

function ip4(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** The IPv4 packet inside one link-layer frame, or undefined. */
function ipv4Of(link: number, frame: Buffer): Buffer | undefined {
  let off: number;
  let etherType: number;
  if (link === LINK_ETHERNET) {
    if (frame.length < 14) return undefined;
    off = 12;
    etherType = frame.readUInt16BE(off);
    off += 2;
    // 802.1Q / 802.1ad tags (at most two).
    for (let i = 0; i < 2 && (etherType === 0x8100 || etherType === 0x88a8) && frame.length >= off + 4; i++) {
      etherType = frame.readUInt16BE(off + 2);
      off += 4;
    }
  } else if (link === LINK_SLL) {
    if (frame.length < 16) return undefined;
    etherType = frame.readUInt16BE(14);
    off = 16;
  } else if (link === LINK_SLL2) {
    if (frame.length < 20) return undefined;
    etherType = frame.readUInt16BE(0);
    off = 20;
  } else if (link === LINK_RAW || link === LINK_IPV4) {
    etherType = 0x0800;
    off = 0;
  } else {
    return undefined;
  }
  return etherType === 0x0800 ? frame.subarray(off) : undefined;
}

function udpDhcp(ip: Buffer): Omit<CapturedDhcp, 'index' | 'frame'> | undefined {
  if (ip.length < 20 || ip[0]! >> 4 !== 4) return undefined;
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ihl < 20 || ip.length < ihl + 8 || ip[9] !== 17) return undefined;
  const fragment = ip.readUInt16BE(6);
  if ((fragment & 0x1fff) !== 0 || (fragment & 0x2000) !== 0) return undefined;
  const total = Math.min(ip.readUInt16BE(2), ip.length);
  const udp = ip.subarray(ihl, total);
  const srcPort = udp.readUInt16BE(0);
  const dstPort = udp.readUInt16BE(2);
  if (!DHCP_PORTS.has(dstPort)) return undefined;
  const udpLen = Math.min(udp.readUInt16BE(4), udp.length);
  if (udpLen < 8) return undefined;
  return { srcIp: ip4(ip, 12), dstIp: ip4(ip, 16), srcPort, dstPort, payload: Buffer.from(udp.subarray(8, udpLen)) };
}

/** Every UDP datagram to port 67 or 4011 in a pcap or pcapng capture. Throws PcapError on a bad file. */
export function readDhcpFromCapture(buf: Buffer): CapturedDhcp[] {
  if (buf.length < 4) throw new PcapError('file too short for a capture');
  const frames = buf.readUInt32BE(0) === 0x0a0d0d0a ? pcapngFrames(buf) : pcapFrames(buf);
  const out: CapturedDhcp[] = [];
  let n = 0;
  for (const f of frames) {
    n++;
    const ip = ipv4Of(f.link, f.data);
    const d = ip && udpDhcp(ip);
    if (d) out.push({ index: out.length, frame: n, ...d });
  }
  return out;
}

interface Frame {
  link: number;
  data: Buffer;
}

function* pcapFrames(buf: Buffer): Generator<Frame> {
  if (buf.length < 24) throw new PcapError('file too short for a pcap header');
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new PcapError('not a pcap or pcapng file (unknown magic number)');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20) & 0x0fffffff;
  let off = 24;
  for (let i = 0; i < MAX_FRAMES && off + 16 <= buf.length; i++) {
    const incl = u32(off + 8);
    const start = off + 16;
    if (start + incl > buf.length) throw new PcapError(`truncated record at byte ${off}`);
    yield { link, data: buf.subarray(start, start + incl) };
    off = start + incl;
  }
}

function* pcapngFrames(buf: Buffer): Generator<Frame> {
  let off = 0;
  let le = true;
  let links: number[] = [];
  for (let i = 0; i < MAX_FRAMES && off + 12 <= buf.length; i++) {
    const typeBE = buf.readUInt32BE(off);
    if (typeBE === 0x0a0d0d0a) {
      // Section header: the byte-order magic decides how this section is read.
      const bom = buf.readUInt32LE(off + 8);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new PcapError(`bad pcapng byte-order magic at byte ${off}`);
      links = [];
    }
    const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
    const type = u32(off);
    const len = u32(off + 4);
    if (len < 12 || len % 4 !== 0 || off + len > buf.length)
      throw new PcapError(`bad pcapng block length ${len} at byte ${off}`);
    if (type === 1) {
      links.push(u16(off + 8));
    } else if (type === 6 && len >= 32) {
      const ifc = u32(off + 8);
      const caplen = u32(off + 20);
      const link = links[ifc];
      if (link !== undefined && 28 + caplen <= len) yield { link, data: buf.subarray(off + 28, off + 28 + caplen) };
    } else if (type === 3 && len >= 16) {
      const link = links[0];
      const orig = u32(off + 8);
      const caplen = Math.min(orig, len - 16);
      if (link !== undefined) yield { link, data: buf.subarray(off + 12, off + 12 + caplen) };
    }
    off += len;
  }
}
