/**
 * DUIDs (RFC 8415 §11) and what they tell about a client's MAC. Only DUID-LLT and DUID-LL with
 * Ethernet (hardware type 1) carry a link-layer address, and even then it may be another NIC's
 * (a DUID is per host and stable across interfaces); DUID-EN and DUID-UUID carry none.
 */
import { DuidType } from './constants.js';

export type ParsedDuid =
  | { type: 'llt'; hardwareType: number; time: number; linkLayer: Buffer }
  | { type: 'll'; hardwareType: number; linkLayer: Buffer }
  | { type: 'en'; enterprise: number; identifier: Buffer }
  | { type: 'uuid'; uuid: string }
  | { type: 'unknown'; code: number; data: Buffer };

export function parseDuid(duid: Buffer): ParsedDuid {
  const code = duid.length >= 2 ? duid.readUInt16BE(0) : -1;
  if (code === DuidType.LLT && duid.length >= 8) {
    return { type: 'llt', hardwareType: duid.readUInt16BE(2), time: duid.readUInt32BE(4), linkLayer: duid.subarray(8) };
  }
  if (code === DuidType.LL && duid.length >= 4) {
    return { type: 'll', hardwareType: duid.readUInt16BE(2), linkLayer: duid.subarray(4) };
  }
  if (code === DuidType.EN && duid.length >= 6) {
    return { type: 'en', enterprise: duid.readUInt32BE(2), identifier: duid.subarray(6) };
  }
  if (code === DuidType.UUID && duid.length === 18) return { type: 'uuid', uuid: uuidString(duid.subarray(2)) };
  return { type: 'unknown', code, data: duid.subarray(Math.min(2, duid.length)) };
}

/** The Ethernet MAC (`aa:bb:cc:dd:ee:ff`) in a DUID-LLT or DUID-LL of hardware type 1, else undefined. */
export function duidMac(duid: Buffer): string | undefined {
  const d = parseDuid(duid);
  if ((d.type === 'llt' || d.type === 'll') && d.hardwareType === 1 && d.linkLayer.length === 6) {
    return macOf(d.linkLayer);
  }
  return undefined;
}

/** `aa:bb:...` of a 6-byte Ethernet address. */
export function macOf(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The MAC inside a modified EUI-64 link-local address (fe80::5054:ff:fe12:3456 → 52:54:00:12:34:56), if it is one. */
export function macFromLinkLocal(bytes: Buffer): string | undefined {
  if (bytes.length !== 16 || bytes[0] !== 0xfe || (bytes[1]! & 0xc0) !== 0x80) return undefined;
  if (bytes[11] !== 0xff || bytes[12] !== 0xfe) return undefined;
  return macOf(Buffer.from([bytes[8]! ^ 0x02, bytes[9]!, bytes[10]!, bytes[13]!, bytes[14]!, bytes[15]!]));
}

/** Hex of a DUID, colon-separated (`00:01:00:01:...`), the form logs and reservations use. */
export function duidHex(duid: Buffer): string {
  return [...duid].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Parses `00:01:...`, `00-01-...` or plain hex into DUID bytes; undefined when it is not hex bytes. */
export function parseDuidHex(text: string): Buffer | undefined {
  const hex = text.replace(/[:\-\s]/g, '').toLowerCase();
  if (hex.length < 4 || hex.length % 2 !== 0 || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
