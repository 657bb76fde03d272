/**
 * From a decoded RRQ to a ready-to-run transfer plan, or to the ERROR the client gets instead.
 * Order: mode → path safety → `tftp.request` → readRequest hook → resolve → negotiate hook.
 */
import type { FileHandle } from '../files/types.js';
import { netasciiSize } from './block-source.js';
import { encodeOack, TftpErrorCode, type RequestPacket } from './codec.js';
import {
  hasOptions,
  negotiateOptions,
  oackEntries,
  sanitizeOptions,
  transferParams,
  type NegotiationLimits,
  type TftpOptions,
  type TransferParams,
} from './options.js';
import { normalizeVirtualPath } from '../files/path.js';
import { TftpRefusal } from './refusal.js';
import type { TftpCallbacks, TftpClient, TftpRequest } from './types.js';

export type TransferPlan = Extract<Plan, { kind: 'transfer' }>;

export type Plan =
  | {
      kind: 'transfer';
      req: TftpRequest;
      handle: FileHandle;
      acked: TftpOptions;
      params: TransferParams;
      oack: Buffer | undefined;
      oackOptions: Record<string, string>;
    }
  | {
      kind: 'refuse';
      req: TftpRequest | undefined;
      code: number;
      message: string;
      /** `denied` is policy (path, hook, write); `error` is a failure (not found, resolver threw). */
      as: 'denied' | 'error';
      /** Cause for events and logs when it differs from the (generic) wire message. */
      reason?: string;
    };

export interface PlanContext {
  callbacks: TftpCallbacks;
  limits: (client: TftpClient) => NegotiationLimits;
  defaultTimeoutMs: number;
  emitRequest: (req: TftpRequest) => void;
}

function refuse(
  req: TftpRequest | undefined,
  code: number,
  message: string,
  as: 'denied' | 'error',
  reason?: string,
): Plan {
  return { kind: 'refuse', req, code, message, as, ...(reason !== undefined && reason !== message ? { reason } : {}) };
}

export async function planRead(
  pkt: RequestPacket,
  client: TftpClient,
  transferId: string,
  ctx: PlanContext,
): Promise<Plan> {
  let req: TftpRequest | undefined;
  try {
    return await plan(pkt, client, transferId, ctx, (r) => (req = r));
  } catch (err) {
    // A callback refused with a chosen error (it logged the cause); anything else goes up as ERROR 0.
    if (err instanceof TftpRefusal) return refuse(req, err.code, err.message, 'error', err.reason);
    throw err;
  }
}

async function plan(
  pkt: RequestPacket,
  client: TftpClient,
  transferId: string,
  ctx: PlanContext,
  created: (req: TftpRequest) => void,
): Promise<Plan> {
  const options = Object.fromEntries(pkt.options.values);
  const netascii = pkt.mode === 'netascii';
  if (pkt.mode !== 'octet' && !netascii) {
    return refuse(undefined, TftpErrorCode.IllegalOperation, `unsupported mode '${pkt.mode}'`, 'error');
  }
  const norm = normalizeVirtualPath(pkt.filename);
  if (!norm.ok) return refuse(undefined, TftpErrorCode.AccessViolation, `access violation: ${norm.reason}`, 'denied');

  const req: TftpRequest = {
    path: pkt.filename,
    normalizedPath: norm.path,
    mode: pkt.mode,
    options,
    client,
    transferId,
  };
  created(req);
  ctx.emitRequest(req);

  const decision = ctx.callbacks.readRequest ? await ctx.callbacks.readRequest(req) : undefined;
  if (decision?.deny !== undefined) {
    return refuse(req, TftpErrorCode.AccessViolation, decision.deny || 'access violation', 'denied');
  }
  if (decision?.path !== undefined) {
    const mapped = normalizeVirtualPath(decision.path);
    if (!mapped.ok) return refuse(req, TftpErrorCode.AccessViolation, `access violation: ${mapped.reason}`, 'denied');
    req.normalizedPath = mapped.path;
  }

  const handle = await ctx.callbacks.resolve(req.normalizedPath, req);
  if (handle === undefined) return refuse(req, TftpErrorCode.FileNotFound, 'file not found', 'error');

  // tsize in netascii is the converted size (RFC 2349 §tsize): computed by one streaming scan, only when asked.
  let size: number | undefined = handle.size;
  if (netascii) size = pkt.options.values.has('tsize') ? await netasciiSize(await handle.open()) : undefined;

  const offered = negotiateOptions(pkt.options, ctx.limits(client), size);
  const fromHook = ctx.callbacks.negotiate ? ctx.callbacks.negotiate({ ...offered }, req) : offered;
  const acked = sanitizeOptions(fromHook, offered, pkt.options);
  const entries = oackEntries(acked, pkt.options);
  return {
    kind: 'transfer',
    req,
    handle,
    acked,
    params: transferParams(acked, ctx.defaultTimeoutMs),
    oack: hasOptions(acked) ? encodeOack(entries) : undefined,
    oackOptions: Object.fromEntries(entries),
  };
}
