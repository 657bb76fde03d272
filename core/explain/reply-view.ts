import { decodeOptionValue, decodeSubOptions } from '../dhcp/option-values.js';
import { optionName, optionType } from '../dhcp/options.js';
import { messageTypeName, type DhcpPacket } from '../dhcp/packet.js';
import { parseUserClass } from '../dhcp/pxe.js';

export interface OptionView {
  code: number;
  name: string;
  value: string;
}

export interface PacketView {
  type: string;
  fields: { ciaddr: string; yiaddr: string; siaddr: string; giaddr: string; sname: string; file: string };
  options: OptionView[];
}

/** Sub-options as `code=hex` pairs (43 PXE, 175 iPXE): raw, since their meaning is per vendor. */
function subOptions(buf: Buffer): string {
  const subs = decodeSubOptions(buf);
  if (!subs) return `${buf.toString('hex')} (malformed sub-options)`;
  return [...subs].map(([c, v]) => `${c}=${v.toString('hex') || '(empty)'}`).join(' ');
}

function show(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.length ? v.toString('hex') : '(empty)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.map(show).join(', ');
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** One option's value in words. Never throws: an undecodable value is shown as hex. */
export function optionValueText(code: number, buf: Buffer): string {
  try {
    if (code === 53) return `${buf[0]} (${messageTypeName(buf[0])})`;
    if (code === 43 || code === 175) return subOptions(buf);
    if (code === 77)
      return parseUserClass(buf)
        .map((c) => JSON.stringify(c))
        .join(', ');
    if (code === 97 && buf.length === 17 && buf[0] === 0) {
      const h = buf.toString('hex', 1);
      return `uuid ${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    const type = optionType(code);
    if (type === 'suboptions') return subOptions(buf);
    return show(decodeOptionValue(type, buf, code));
  } catch {
    return `${buf.toString('hex')} (undecodable)`;
  }
}

export function packetView(p: DhcpPacket): PacketView {
  const t = p.options.get(53)?.[0];
  return {
    type: messageTypeName(t),
    fields: { ciaddr: p.ciaddr, yiaddr: p.yiaddr, siaddr: p.siaddr, giaddr: p.giaddr, sname: p.sname, file: p.file },
    options: [...p.options].map(([code, buf]) => ({ code, name: optionName(code), value: optionValueText(code, buf) })),
  };
}
