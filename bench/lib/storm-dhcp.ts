/**
 * The boot storm's DHCP side: a relay agent (giaddr, port 67) that speaks for N simulated machines
 * on one socket, each doing DISCOVER → OFFER → REQUEST → ACK with firmware-like retries (1, 2, 4 s).
 * Packets are built and parsed here, independently of pxekit's codec, so a codec bug cannot hide
 * itself from the bench.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface Lease {
  address: string;
  serverId: string;
  /** Boot file name (option 67, else the `file` field). */
  bootFile: string;
  /** TFTP server (option 66, else `siaddr`, else the DHCP server). */
  nextServer: string;
}

/** Delay before each retransmission (EDK2 and iPXE back off roughly like this). */
export const RETRY_MS = [1000, 2000, 4000];

const MAGIC = 0x63825363;

export interface ClientSpec {
  mac: Buffer;
  /** Option 93 client architecture (0 BIOS, 7 UEFI x64). */
  arch: number;
  xid: number;
}

/** A BOOTREQUEST as a PXE ROM sends it, relayed through `giaddr`. */
export function buildRequest(c: ClientSpec, giaddr: string, type: 1 | 3, extra: Array<[number, Buffer]> = []): Buffer {
  const b = Buffer.alloc(548);
  b[0] = 1; // BOOTREQUEST
  b[1] = 1; // Ethernet
  b[2] = 6;
  b[3] = 1; // hops: one relay
  b.writeUInt32BE(c.xid, 4);
  ipTo(b, 24, giaddr);
  c.mac.copy(b, 28);
  b.writeUInt32BE(MAGIC, 236);
  let p = 240;
  const put = (code: number, v: Buffer) => {
    b[p++] = code;
    b[p++] = v.length;
    v.copy(b, p);
    p += v.length;
  };
  put(53, Buffer.from([type]));
  put(55, Buffer.from([1, 3, 6, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135]));
  put(57, Buffer.from([0x05, 0xc0])); // max message size 1472
  put(93, Buffer.from([0, c.arch]));
  put(94, Buffer.from([1, 3, 16])); // UNDI 3.16
  put(60, Buffer.from(`PXEClient:Arch:${String(c.arch).padStart(5, '0')}:UNDI:003016`));
  put(97, Buffer.concat([Buffer.from([0]), c.mac, Buffer.alloc(10)])); // client GUID
  for (const [code, v] of extra) put(code, v);
  b[p++] = 255;
  return b.subarray(0, Math.max(p, 300));
}

export interface Reply {
  xid: number;
  type: number;
  yiaddr: string;
  siaddr: string;
  file: string;
  options: Map<number, Buffer>;
}

/** Parses a BOOTREPLY; undefined for anything else or anything malformed. */
export function parseReply(b: Buffer): Reply | undefined {
  if (b.length < 240 || b[0] !== 2 || b.readUInt32BE(236) !== MAGIC) return undefined;
  const options = new Map<number, Buffer>();
  for (let p = 240; p < b.length;) {
    const code = b[p++]!;
    if (code === 0) continue;
    if (code === 255) break;
    const len = b[p++];
    if (len === undefined || p + len > b.length) return undefined;
    options.set(code, b.subarray(p, p + len));
    p += len;
  }
  const type = options.get(53)?.[0];
  if (type === undefined) return undefined;
  const cstr = (s: Buffer) => s.toString('latin1').replace(/\0.*$/s, '');
  return {
    xid: b.readUInt32BE(4),
    type,
    yiaddr: ipFrom(b, 16),
    siaddr: ipFrom(b, 20),
    file: cstr(b.subarray(108, 236)),
    options,
  };
}

/** One relay socket for every machine: replies are routed to waiters by xid. */
export class StormRelay {
  readonly #sock: Socket;
  readonly #waiters = new Map<number, (r: Reply) => void>();

  private constructor(
    sock: Socket,
    readonly giaddr: string,
    readonly server: string,
  ) {
    this.#sock = sock;
    sock.on('message', (msg) => {
      const r = parseReply(msg);
      if (r) this.#waiters.get(r.xid)?.(r);
    });
  }

  static async open(giaddr: string, server: string): Promise<StormRelay> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: giaddr, port: 67 }, () => resolve());
    });
    sock.setRecvBufferSize(8 << 20);
    return new StormRelay(sock, giaddr, server);
  }

  /** Sends `packet` and waits for a reply of `want` type, retrying on RETRY_MS; undefined when none came. */
  async exchange(xid: number, packet: Buffer, want: number): Promise<Reply | undefined> {
    for (let attempt = 0; attempt <= RETRY_MS.length; attempt++) {
      const wait = RETRY_MS[attempt] ?? RETRY_MS[RETRY_MS.length - 1]!;
      const reply = await new Promise<Reply | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiters.delete(xid);
          resolve(undefined);
        }, wait);
        this.#waiters.set(xid, (r) => {
          if (r.type !== want && r.type !== 6 /* NAK */) return;
          clearTimeout(timer);
          this.#waiters.delete(xid);
          resolve(r);
        });
        this.#sock.send(packet, 67, this.server);
      });
      if (reply) return reply;
    }
    return undefined;
  }

  /**
   * DISCOVER → OFFER → REQUEST → ACK for one machine; after a NAK it starts over, as firmware does
   * (a server that does not hold offered addresses can offer one address twice in a burst): after
   * a 1 s pause, at most `attempts` times in all.
   */
  async dora(c: ClientSpec, attempts = 4): Promise<Lease> {
    for (let i = 1; ; i++) {
      try {
        return await this.#doraOnce(c);
      } catch (e) {
        if (!(e instanceof NakError) || i >= attempts) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async #doraOnce(c: ClientSpec): Promise<Lease> {
    const offer = await this.exchange(c.xid, buildRequest(c, this.giaddr, 1), 2);
    if (!offer || offer.type !== 2) throw new Error('no OFFER');
    const serverId = offer.options.get(54);
    if (!serverId) throw new Error('OFFER without server identifier');
    const req = buildRequest(c, this.giaddr, 3, [
      [50, ipBytes(offer.yiaddr)],
      [54, Buffer.from(serverId)],
    ]);
    const ack = await this.exchange(c.xid, req, 5);
    if (!ack) throw new Error('no ACK');
    if (ack.type !== 5) throw new NakError(ack.options.get(56)?.toString('latin1') ?? '');
    const opt67 = ack.options.get(67);
    const opt66 = ack.options.get(66);
    const sid = ipFrom(serverId, 0);
    return {
      address: ack.yiaddr,
      serverId: sid,
      bootFile: opt67 ? opt67.toString('latin1').replace(/\0.*$/s, '') : ack.file,
      nextServer: opt66 ? opt66.toString('latin1') : ack.siaddr !== '0.0.0.0' ? ack.siaddr : sid,
    };
  }

  close(): void {
    this.#sock.close();
  }
}

/** The server refused the REQUEST (option 56 says why, when it says). */
export class NakError extends Error {
  constructor(reason: string) {
    super(`NAK${reason ? `: ${reason}` : ''}`);
  }
}

function ipTo(b: Buffer, off: number, ip: string): void {
  ipBytes(ip).copy(b, off);
}
function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}
function ipFrom(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}
