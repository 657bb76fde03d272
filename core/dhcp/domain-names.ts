/**
 * RFC 1035 §3.1 domain names as used by option 119 (RFC 3397): a list of names, each a sequence of
 * length-prefixed labels ending in a zero byte, with §4.1.4 compression pointers into the same option.
 */

/** Longest name in presentation form we accept (RFC 1035 §2.3.4: 255 bytes on the wire). */
const MAX_NAME = 255;
/** Bound on pointer hops per name, so a pointer cycle cannot hang the decoder. */
const MAX_JUMPS = 64;

/** Decodes every name in `buf`; undefined if any label overruns, a pointer is bad, or a name is too long. */
export function decodeDomains(buf: Buffer): string[] | undefined {
  const names: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const name = readName(buf, i);
    if (name === undefined) return undefined;
    names.push(name.text);
    i = name.next;
  }
  return names;
}

function readName(buf: Buffer, start: number): { text: string; next: number } | undefined {
  const labels: string[] = [];
  let p = start;
  let next = -1;
  let jumps = 0;
  let wire = 0;
  for (;;) {
    if (p >= buf.length) return undefined;
    const len = buf[p]!;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= buf.length || ++jumps > MAX_JUMPS) return undefined;
      const target = ((len & 0x3f) << 8) | buf[p + 1]!;
      if (next < 0) next = p + 2;
      // Pointers must point backwards (RFC 1035 §4.1.4 "prior occurrence"); this also rules out self-loops.
      if (target >= p) return undefined;
      p = target;
      continue;
    }
    if (len > 63 || p + 1 + len > buf.length) return undefined;
    wire += len + 1;
    if (wire > MAX_NAME) return undefined;
    labels.push(buf.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return { text: labels.join('.'), next };
}

/** Encodes names without compression (always valid). Undefined if a label is empty or over 63 bytes. */
export function encodeDomains(names: string[]): Buffer | undefined {
  const parts: Buffer[] = [];
  for (const raw of names) {
    const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
    let wire = 1;
    if (name !== '') {
      for (const label of name.split('.')) {
        const b = Buffer.from(label, 'latin1');
        if (b.length === 0 || b.length > 63) return undefined;
        parts.push(Buffer.from([b.length]), b);
        wire += b.length + 1;
      }
    }
    if (wire > MAX_NAME) return undefined;
    parts.push(Buffer.from([0]));
  }
  return Buffer.concat(parts);
}
