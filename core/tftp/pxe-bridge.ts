/**
 * The TFTP engine's callbacks, as the pxekit server supplies them: who the client is (boot session by
 * source IP), admit, the `tftp.readRequest` / `tftp.negotiate` hooks, `files.resolve`, and the engine's
 * events turned into boot events plus one info log line per finished request.
 *
 * Failures of hooks and sources are logged here with hookTags and become a TftpRefusal with a generic
 * wire message (ERROR 0), so a broken plugin costs one request, never the process.
 */
import type { Logger } from 'pino';
import type { TftpHooks, TftpNegotiation, TftpReadRequest } from '../hooks/tftp.js';
import { hookTags } from '../errors.js';
import { hookIsIdle } from '../hooks/runner.js';
import type { ProtocolHost } from '../hooks/host.js';
import type { BootSession } from '../session/types.js';
import { TftpErrorCode } from './codec.js';
import type { TftpOptions } from './options.js';
import { TftpRefusal } from './refusal.js';
import type { ReadDecision, TftpCallbacks, TftpClient, TftpEvent, TftpRequest } from './types.js';
import { unmapIpv4 } from '../util/ipv4-mapped.js';
import { withLazyChildLog } from '../util/lazy-log.js';
import type { LogLimiter } from '../util/log-limit.js';

/** What the bridge learnt about one request, kept until its last event. */
interface RequestState {
  ip: string;
  session?: BootSession;
  /** The plugin that denied or mapped it. */
  plugin?: string;
  /** The source plugin that answered resolve. */
  source?: string;
  hookReq?: TftpReadRequest;
}

/**
 * `limited`: the rate limit for `tftp.hook.error` (a failing plugin fails every request), the engine's
 * (`TftpServer.limitedLog`), so one limiter spans reloads and the engine's close flushes it.
 */
export function createPxeCallbacks(
  server: ProtocolHost,
  hooks: TftpHooks,
  log: Logger,
  limited: LogLimiter,
): TftpCallbacks {
  const states = new WeakMap<TftpRequest, RequestState>();

  const identify = (client: TftpClient): RequestState => {
    const ip = unmapIpv4(client.address);
    const session = server.sessions.byIp(ip);
    return session ? { ip, session } : { ip };
  };
  const stateOf = (req: TftpRequest): RequestState => {
    let st = states.get(req);
    if (!st) {
      st = identify(req.client);
      states.set(req, st);
    }
    return st;
  };
  const hookRequest = (req: TftpRequest, st: RequestState): TftpReadRequest => {
    if (st.hookReq) return st.hookReq;
    const hookReq: TftpReadRequest = withLazyChildLog(
      {
        requestedPath: req.path,
        path: req.normalizedPath,
        mode: req.mode === 'netascii' ? ('netascii' as const) : ('octet' as const),
        options: { ...req.options },
        client: { ...req.client },
        ...(st.session ? { session: st.session } : {}),
      },
      log,
      { client: st.ip, path: req.normalizedPath, transferId: req.transferId },
    );
    st.hookReq = hookReq;
    return hookReq;
  };
  /** Logs a plugin/source failure and refuses with a generic ERROR 0. */
  const failed = (err: unknown, what: string, req: TftpRequest, st: RequestState): TftpRefusal => {
    const tags = hookTags(err);
    limited.error(
      log,
      {
        event: 'tftp.hook.error',
        err,
        ...tags,
        client: st.ip,
        mac: st.session?.mac,
        path: req.normalizedPath,
        transferId: req.transferId,
      },
      `TFTP ${what} failed`,
      `${tags.plugin ?? ''}:${tags.hook ?? ''}`,
    );
    if (tags.plugin) st.plugin = tags.plugin;
    return new TftpRefusal(
      TftpErrorCode.NotDefined,
      'internal server error',
      `${what} failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  };

  const readRequest = async (req: TftpRequest): Promise<ReadDecision> => {
    const st = stateOf(req);
    const { session } = st;
    if (session) server.sessions.upsert(session.mac, { ip: st.ip, stage: 'tftp' });
    // Admit first: a denied client learns nothing about the tree (no OACK, no size, no not-found).
    const admitted = await server.admit({
      protocol: 'tftp',
      ...(session ? { mac: session.mac, session } : {}),
      ip: st.ip,
      path: req.normalizedPath,
    });
    if (!admitted.allowed) {
      if (admitted.plugin) st.plugin = admitted.plugin;
      return { deny: `access violation: ${admitted.reason ?? 'denied'}` };
    }
    // No plugin maps or denies reads: the hook's request object would be built for nobody.
    if (hookIsIdle(hooks.readRequest)) return undefined;
    let answer;
    try {
      answer = await hooks.readRequest.promise(hookRequest(req, st));
    } catch (err) {
      throw failed(err, 'readRequest hook', req, st);
    }
    if (!answer) return undefined;
    const plugin = server.runner.decidedBy(answer);
    if (plugin) st.plugin = plugin;
    if ('deny' in answer) return { deny: `access violation: ${answer.deny}` };
    if (typeof answer.path !== 'string')
      throw failed(new Error('readRequest returned neither deny nor path'), 'readRequest hook', req, st);
    return { path: answer.path };
  };

  const negotiate = (options: TftpOptions, req: TftpRequest): TftpOptions => {
    if (hookIsIdle(hooks.negotiate)) return options; // what the waterfall returns with no taps
    const st = stateOf(req);
    const hookReq = hookRequest(req, st);
    hookReq.path = req.normalizedPath; // after a readRequest mapping
    try {
      return hooks.negotiate.call({ ...options } as TftpNegotiation, hookReq) ?? options;
    } catch (err) {
      throw failed(err, 'negotiate hook', req, st);
    }
  };

  const resolve: TftpCallbacks['resolve'] = async (path, req) => {
    const st = stateOf(req);
    try {
      const handle = await server.files.resolve(path, {
        protocol: 'tftp',
        ...(st.session ? { session: st.session } : {}),
        clientAddress: st.ip,
      });
      if (handle) st.source = handle.source;
      return handle;
    } catch (err) {
      throw failed(err, 'file source', req, st);
    }
  };

  const recordDone = (session: BootSession, path: string, bytes: number): void => {
    server.sessions.recordFile(session, path, bytes);
    server.sessions.setStage(session.mac, 'tftp');
  };

  const event = (ev: TftpEvent): void => {
    // With no boot-event observer, an event's only effects are its session update and its log line: the
    // request and OACK events have neither, a finished transfer logs at info and a probe at debug.
    if (!server.observesBootEvents) {
      if (ev.type === 'tftp.request' || ev.type === 'tftp.oack') return;
      if (ev.type === 'tftp.probe' && !log.isLevelEnabled('debug')) return;
      if (ev.type === 'tftp.done' && !log.isLevelEnabled('info')) {
        const { session } = stateOf(ev.req);
        if (session) recordDone(session, ev.req.normalizedPath, ev.bytes);
        return;
      }
    }
    const st = ev.req ? stateOf(ev.req) : identify((ev as { client: TftpClient }).client);
    const who = { ...(st.session ? { mac: st.session.mac, session: st.session } : {}), ip: st.ip };
    const path = ev.req?.normalizedPath ?? ('path' in ev ? ev.path : undefined);
    const base = { protocol: 'tftp' as const, ...who };
    const ids = {
      ...(ev.req ? { transferId: ev.req.transferId } : {}),
      client: st.ip,
      ...(st.session ? { mac: st.session.mac } : {}),
    };
    switch (ev.type) {
      case 'tftp.request':
        server.emit({
          ...base,
          type: ev.type,
          outcome: 'info',
          data: { path, requestedPath: ev.req.path, mode: ev.req.mode, options: ev.req.options },
        });
        return;
      case 'tftp.oack':
        server.emit({ ...base, type: ev.type, outcome: 'info', data: { path, options: ev.options } });
        return;
      case 'tftp.done': {
        const { bytes, blocks, retransmits, blksize, windowsize } = ev;
        const durationMs = Math.round(ev.durationMs * 10) / 10;
        if (st.session) recordDone(st.session, ev.req.normalizedPath, bytes);
        const data = {
          path,
          bytes,
          durationMs,
          blocks,
          retransmits,
          blksize,
          windowsize,
          ...(st.source ? { source: st.source } : {}),
        };
        if (log.isLevelEnabled('info'))
          log.info({ event: 'tftp.done', ...ids, ...data }, `TFTP sent ${path} (${bytes} bytes)`);
        server.emit({ ...base, type: ev.type, outcome: 'ok', data });
        return;
      }
      case 'tftp.probe': {
        // EDK2 asks for tsize, then ends with ERROR 8 before any data: normal, not a failure.
        const data = { path, tsize: ev.tsize, durationMs: Math.round(ev.durationMs * 10) / 10 };
        if (log.isLevelEnabled('debug'))
          log.debug({ event: 'tftp.probe', ...ids, ...data }, `TFTP size probe of ${path}`);
        server.emit({ ...base, type: ev.type, outcome: 'probe', data });
        return;
      }
      case 'tftp.denied': {
        const data = { path, requestedPath: ev.path, code: ev.code, reason: ev.reason };
        log.info(
          { event: 'tftp.denied', ...ids, ...data, ...(st.plugin ? { plugin: st.plugin } : {}) },
          `TFTP request denied: ${ev.reason}`,
        );
        server.emit({ ...base, type: ev.type, outcome: 'denied', ...(st.plugin ? { plugin: st.plugin } : {}), data });
        return;
      }
      case 'tftp.error': {
        const data = {
          path,
          reason: ev.reason,
          ...(ev.code !== undefined ? { code: ev.code } : {}),
          ...(ev.outcome ? { outcome: ev.outcome } : {}),
          ...(ev.bytes !== undefined ? { bytes: ev.bytes } : {}),
          ...(ev.durationMs !== undefined ? { durationMs: Math.round(ev.durationMs * 10) / 10 } : {}),
          ...(ev.retransmits !== undefined ? { retransmits: ev.retransmits } : {}),
          ...(st.source ? { source: st.source } : {}),
        };
        // A vanished client or a failing source is worth a warning; a missing file or a client's own abort is not.
        // Garbage from the network (no request object, `malformed: …`) only at debug: it must not flood the log.
        const level =
          ev.outcome === 'timeout' || ev.outcome === 'read-error'
            ? 'warn'
            : !ev.req && ev.reason.startsWith('malformed')
              ? 'debug'
              : 'info';
        log[level]({ event: 'tftp.error', ...ids, ...data }, `TFTP request failed: ${ev.reason}`);
        server.emit({ ...base, type: ev.type, outcome: 'error', ...(st.plugin ? { plugin: st.plugin } : {}), data });
        return;
      }
    }
  };

  return { readRequest, negotiate, resolve, event };
}
