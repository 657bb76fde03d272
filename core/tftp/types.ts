/** Public types of the TFTP server: options, the callbacks the server object supplies, and boot events. */
import type { Logger } from 'pino';
import type { LogLimiter } from '../util/log-limit.js';
import type { FileHandle } from '../files/types.js';
import type { TftpOptions } from './options.js';
import type { TransferOutcome } from './transfer-types.js';

export type { TftpOptions } from './options.js';
export type { TransferOutcome, TransferStats } from './transfer-types.js';

export interface TftpClient {
  address: string;
  port: number;
}

export interface TftpRequest {
  /** The file name exactly as the client sent it. */
  path: string;
  /** Safe virtual path (`/a/b`) after normalisation (see path.ts); updated if `readRequest` maps it. */
  normalizedPath: string;
  /** `octet` or `netascii` (other modes are refused before any callback runs). */
  mode: string;
  /** Options as requested: names lower-cased, first occurrence of a duplicate wins. */
  options: Record<string, string>;
  client: TftpClient;
  /** Unique per request, for correlating events and logs. */
  transferId: string;
}

/** `deny`: refuse with ERROR 2 and this text. `path`: serve this virtual path instead (re-normalised). */
export type ReadDecision = { deny?: string; path?: string } | undefined;

export interface TftpCallbacks {
  /** Policy: allow, deny or map. Runs after path normalisation, before `resolve`. */
  readRequest?: (req: TftpRequest) => Promise<ReadDecision>;
  /** Sync waterfall over what the server is willing to acknowledge; may lower or drop, never add. */
  negotiate?: (options: TftpOptions, req: TftpRequest) => TftpOptions;
  /** The file behind a virtual path; undefined → ERROR 1 file not found. */
  resolve: (path: string, req: TftpRequest) => Promise<FileHandle | undefined>;
  /** Boot events; exceptions thrown here are logged and swallowed. */
  event?: (ev: TftpEvent) => void;
}

/** Options `TftpServer.retune` may change while it runs (the others shape the listening sockets). */
export const TFTP_TUNABLE_OPTIONS = [
  'maxBlksize',
  'windowsizeCap',
  'maxTransfers',
  'maxPerClient',
  'defaultTimeoutMs',
  'retries',
] as const;
export type TftpTunableOption = (typeof TFTP_TUNABLE_OPTIONS)[number];

export interface TftpServerOptions {
  /** UDP port to listen on (default 69; 0 = ephemeral, for tests). */
  port?: number;
  /** Local address (default `0.0.0.0`; an IPv6 address gives a udp6 socket). */
  address?: string;
  /**
   * A second listening socket, IPv6 only, on the same port: `::` (every IPv6 address), one address, or a
   * link-local one with its zone (`fe80::1%eth0`). Transfers of its clients bind there too.
   */
  address6?: string;
  /** Largest blksize ever acknowledged (default 1468). */
  maxBlksize?: number;
  /** Largest windowsize ever acknowledged (default 64). */
  windowsizeCap?: number;
  /** Retransmission timeout when the client asked no `timeout` option (default 1000 ms). */
  defaultTimeoutMs?: number;
  /** Consecutive timeouts before a transfer is abandoned (default 5). */
  retries?: number;
  /** Concurrent transfers, all clients (default 1000). */
  maxTransfers?: number;
  /** Concurrent transfers from one IP address (default 16). */
  maxPerClient?: number;
  /** Serve every transfer from the listening port, keyed by client address:port (NAT, containers). */
  singlePort?: boolean;
  /**
   * Transfer sockets: `native` (core/native addon: less CPU per packet, faster lock-step), `dgram`
   * (node:dgram), or `auto` (default: native when it was built, else dgram). Single-port mode always
   * uses the listening dgram socket.
   */
  transport?: 'auto' | 'native' | 'dgram';
  /** Write requests: not implemented; false (default) answers ERROR 2, true answers ERROR 4 "not supported". */
  allowWrite?: boolean;
  /** Bound on the readRequest + resolve callbacks for one request (default 10000 ms); then ERROR 0. */
  requestTimeoutMs?: number;
  /** How long `close()` lets running transfers finish before aborting them (default 5000 ms). */
  closeGraceMs?: number;
  /**
   * MTU-derived blksize cap per client. Default: from the Linux interface whose subnet holds the client
   * (mtu.ts). `false` turns it off.
   */
  mtuBlksize?: ((clientAddress: string) => number | undefined) | false;
  log: Logger;
  /**
   * The rate limit for per-request failure lines (one line a second per kind); pass the one the callbacks
   * log through too, so the engine's close flushes both. Default: the engine's own.
   */
  limitedLog?: LogLimiter;
}

interface EventBase {
  req: TftpRequest;
}

export type TftpEvent =
  | ({ type: 'tftp.request' } & EventBase)
  | {
      type: 'tftp.denied';
      /** Absent when refused before a request object exists (unsafe path, write request). */
      req?: TftpRequest;
      client: TftpClient;
      /** The file name as sent. */
      path: string;
      /** TFTP error code sent (2 access violation). */
      code: number;
      reason: string;
    }
  | ({ type: 'tftp.oack'; options: Record<string, string> } & EventBase)
  | ({
      type: 'tftp.done';
      bytes: number;
      durationMs: number;
      blocks: number;
      retransmits: number;
      blksize: number;
      windowsize: number;
    } & EventBase)
  | ({ type: 'tftp.probe'; tsize: number | undefined; durationMs: number } & EventBase)
  | {
      type: 'tftp.error';
      /** Absent when the request never got that far (malformed packet, busy, bad mode). */
      req?: TftpRequest;
      client: TftpClient;
      path?: string;
      /** TFTP error code sent to the client, or received from it (`outcome: 'client-error'`). */
      code?: number;
      reason: string;
      outcome?: TransferOutcome;
      bytes?: number;
      durationMs?: number;
      /** Blocks sent again before the transfer ended (transfers that started). */
      retransmits?: number;
    };
